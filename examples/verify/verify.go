// Receiver-side checks of a Hookwire delivery's signatures, with Go's standard library only.
// Copy the two Verify functions into your handler. The main function is a self-check
// against the shared test vectors:
//
//	go run examples/verify/verify.go [test/vectors/signatures.json]
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// A delivery older or newer than this is refused, so a captured request cannot be replayed later.
const tolerance = 5 * time.Minute

// VerifyStandardWebhook checks the webhook-id, webhook-timestamp and webhook-signature headers.
// secret is the subscription's "whsec_..." secret; body is the raw request body, unparsed.
func VerifyStandardWebhook(secret string, header http.Header, body []byte, now time.Time) bool {
	id, ts := header.Get("webhook-id"), header.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > tolerance {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	expected := []byte("v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	// The header may carry several space-separated signatures (during key rotation); any may match.
	for _, sig := range strings.Fields(header.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), expected) {
			return true
		}
	}
	return false
}

// VerifyGitHub checks the x-hub-signature-256 header: "sha256=" + hex(HMAC-SHA256(secret, body)),
// keyed with the secret string as written.
func VerifyGitHub(secret, signature string, body []byte) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal([]byte(signature), []byte("sha256="+hex.EncodeToString(mac.Sum(nil))))
}

func main() {
	path := "test/vectors/signatures.json"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var vectors struct {
		Github   []struct{ Name, Body, Secret, Signature string } `json:"github"`
		Standard []struct {
			Name, Body, Secret, Signature string
			WebhookID                     string `json:"webhook_id"`
			Timestamp                     int64  `json:"timestamp"`
		} `json:"standard_webhooks"`
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	failed := false
	check := func(name string, got, want bool) {
		if got != want {
			fmt.Fprintf(os.Stderr, "FAIL %s: got %t, want %t\n", name, got, want)
			failed = true
		}
	}
	for _, v := range vectors.Github {
		check(v.Name, VerifyGitHub(v.Secret, v.Signature, []byte(v.Body)), true)
		check(v.Name+" (changed body)", VerifyGitHub(v.Secret, v.Signature, []byte(v.Body+"!")), false)
	}
	for _, v := range vectors.Standard {
		h := http.Header{}
		h.Set("webhook-id", v.WebhookID)
		h.Set("webhook-timestamp", strconv.FormatInt(v.Timestamp, 10))
		h.Set("webhook-signature", "v1,bm90IGl0 "+v.Signature)
		at := time.Unix(v.Timestamp, 0)
		check(v.Name, VerifyStandardWebhook(v.Secret, h, []byte(v.Body), at.Add(4*time.Minute)), true)
		check(v.Name+" (changed body)", VerifyStandardWebhook(v.Secret, h, []byte(v.Body+"!"), at), false)
		check(v.Name+" (too old)", VerifyStandardWebhook(v.Secret, h, []byte(v.Body), at.Add(6*time.Minute)), false)
		check(v.Name+" (too new)", VerifyStandardWebhook(v.Secret, h, []byte(v.Body), at.Add(-6*time.Minute)), false)
		h.Set("webhook-id", v.WebhookID+"x")
		check(v.Name+" (other id)", VerifyStandardWebhook(v.Secret, h, []byte(v.Body), at), false)
	}
	if failed {
		os.Exit(1)
	}
	fmt.Printf("ok: %d GitHub and %d Standard Webhooks vectors\n", len(vectors.Github), len(vectors.Standard))
}
