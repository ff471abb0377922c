// The peer figure's gRPC caller (bench/run.ts): a closed loop of Triggers over one HTTP/2 connection,
// in Go, so that the caller's own CPU on the machine's shared cores is a grpc-go client's rather than
// grpc-js's (0.37-0.42 ms a Trigger, more than Hookwire's store). It warms up, says "ready", waits for
// a line on stdin, runs the measured calls, prints their figures as one JSON line, and exits when
// stdin closes. With -rate it is the latency figure's open loop instead: calls start at that rate
// whatever the answers do, and each latency counts from when its call was due.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hookwire/hookwire/go/hookwire"
	hookwirev1 "github.com/hookwire/hookwire/go/hookwire/v1"
)

type result struct {
	Calls     int     `json:"calls"`
	ElapsedMs float64 `json:"elapsedMs"`
	P50Ms     float64 `json:"p50Ms"`
	P99Ms     float64 `json:"p99Ms"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the Hookwire server")
	key := flag.String("key", "", "the API key")
	event := flag.String("event", "peer.event", "the event type")
	calls := flag.Int("n", 20000, "measured calls")
	warmup := flag.Int("warmup", 1000, "calls before the measured ones")
	inFlight := flag.Int("c", 32, "calls in flight")
	rate := flag.Float64("rate", 0, "calls a second, open loop (0: the closed loop of -c)")
	flag.Parse()

	client, err := hookwire.Dial(*addr, *key)
	if err != nil {
		fail(err)
	}
	defer client.Close()
	trigger := func(i int) error {
		payload, err := structpb.NewValue(map[string]any{"i": i, "note": "bench"})
		if err != nil {
			return err
		}
		_, err = client.Trigger(context.Background(), &hookwirev1.TriggerRequest{Event: *event, Payload: payload})
		return err
	}
	load := func(n int) ([]float64, error) {
		if *rate > 0 {
			return openLoop(n, *rate, trigger)
		}
		return run(n, *inFlight, trigger)
	}
	if _, err := load(*warmup); err != nil {
		fail(err)
	}
	fmt.Println("ready")
	stdin := bufio.NewReader(os.Stdin)
	if _, err := stdin.ReadString('\n'); err != nil {
		fail(err)
	}
	start := time.Now()
	latencies, err := load(*calls)
	if err != nil {
		fail(err)
	}
	elapsed := time.Since(start)
	sort.Float64s(latencies)
	out, _ := json.Marshal(result{Calls: *calls, ElapsedMs: float64(elapsed.Microseconds()) / 1000, P50Ms: percentile(latencies, 50), P99Ms: percentile(latencies, 99)})
	fmt.Println(string(out))
	// Alive until stdin closes, so that the bench can still read this process's CPU time.
	_, _ = io.Copy(io.Discard, stdin)
}

// run makes n calls, c at a time, and returns each call's latency in ms; the first error stops it.
func run(n, c int, call func(i int) error) ([]float64, error) {
	latencies := make([]float64, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if err := call(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
				latencies[i] = float64(time.Since(t).Microseconds()) / 1000
			}
		}()
	}
	wg.Wait()
	return latencies, first
}

// openLoop starts n calls at rate a second and returns each one's latency in ms from when it was due,
// so that a server that stalls cannot hide its queue; the first error is returned once all have ended.
func openLoop(n int, rate float64, call func(i int) error) ([]float64, error) {
	latencies := make([]float64, n)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	start := time.Now()
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func(i int, due time.Time) {
			defer wg.Done()
			if err := call(i); err != nil {
				once.Do(func() { first = err })
			}
			latencies[i] = float64(time.Since(due).Microseconds()) / 1000
		}(i, due)
	}
	wg.Wait()
	return latencies, first
}

// percentile of sorted values, as bench/lib.ts computes it.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p/100*float64(len(sorted))))]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "grpc-caller:", err)
	os.Exit(1)
}
