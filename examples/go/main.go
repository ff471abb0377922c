// Calls Hookwire over gRPC from Go with the module github.com/hookwire/hookwire/go: registers a
// subscription, triggers an event, opens a customer portal session, and signs and verifies every
// shared test vector. Prints one JSON line at the end; exits 1 on any mismatch.
//
//	HOOKWIRE_API_KEY=... go run .
//
// go.mod points the module at this clone with a replace directive; an app outside the repo
// does the same with the path to its clone until the module is published.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hookwire/hookwire/go/hookwire"
	hookwirev1 "github.com/hookwire/hookwire/go/hookwire/v1"
)

type vector struct {
	Name      string `json:"name"`
	Body      string `json:"body"`
	Secret    string `json:"secret"`
	Signature string `json:"signature"`
	WebhookID string `json:"webhook_id"`
	Timestamp int64  `json:"timestamp"`
}

type vectorFile struct {
	Github           []vector `json:"github"`
	StandardWebhooks []vector `json:"standard_webhooks"`
}

type result struct {
	Language       string   `json:"language"`
	SubscriptionID string   `json:"subscription_id"`
	MessageID      string   `json:"message_id"`
	PortalURL      string   `json:"portal_url"`
	Signatures     []string `json:"signatures"`
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	key := os.Getenv("HOOKWIRE_API_KEY")
	if key == "" {
		return fmt.Errorf("HOOKWIRE_API_KEY is required")
	}
	raw, err := os.ReadFile(env("VECTORS", "../../test/vectors/signatures.json"))
	if err != nil {
		return err
	}
	var vectors vectorFile
	if err := json.Unmarshal(raw, &vectors); err != nil {
		return fmt.Errorf("reading vectors: %w", err)
	}

	// Hookwire speaks gRPC over cleartext HTTP/2 (h2c), which Dial uses unless given TLS
	// credentials; put TLS in front of it for remote callers. The key goes with every call.
	client, err := hookwire.Dial(env("HOOKWIRE_ADDR", "127.0.0.1:8080"), key)
	if err != nil {
		return err
	}
	defer client.Close()

	// One deadline for the whole run, so an unreachable server fails instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A customer's own endpoint (owner: your id for the customer). By default loopback where nothing
	// listens: the delivery this run triggers never leaves the machine.
	reg, err := client.Register(ctx, &hookwirev1.RegisterRequest{
		Url:    env("WEBHOOK_URL", "http://127.0.0.1:9/hooks"),
		Events: []string{"example.*"},
		Owner:  "customer-42",
	})
	if err != nil {
		return fmt.Errorf("Register: %w", err)
	}
	fmt.Println("subscription:", reg.GetSubscription().GetId())

	payload, err := structpb.NewValue(map[string]any{"from": "go"})
	if err != nil {
		return err
	}
	// For that customer: only its endpoints receive it.
	trig, err := client.Trigger(ctx, &hookwirev1.TriggerRequest{Event: "example.created", Payload: payload, Owner: "customer-42"})
	if err != nil {
		return fmt.Errorf("Trigger: %w", err)
	}
	fmt.Println("message:", trig.GetMessageId(), "deliveries:", trig.GetDeliveries())

	// The customer portal for that customer (for the user signed in to your site): put the url in an
	// iframe, and they manage their own endpoints there for an hour (TtlSeconds: up to a day).
	portal, err := client.CreatePortalSession(ctx, &hookwirev1.CreatePortalSessionRequest{Owner: "customer-42"})
	if err != nil {
		return fmt.Errorf("CreatePortalSession: %w", err)
	}
	fmt.Println("portal:", portal.GetUrl())

	var signatures []string
	for _, v := range vectors.Github {
		sig, err := signAndVerify(ctx, client, v, &hookwirev1.SignRequest{
			Body: []byte(v.Body), Secret: v.Secret, Scheme: hookwirev1.SignatureScheme_SIGNATURE_SCHEME_GITHUB,
		}, 0)
		if err != nil {
			return err
		}
		signatures = append(signatures, sig)
	}
	for _, v := range vectors.StandardWebhooks {
		// The vectors' timestamps are old; the tolerance must reach back to them.
		tolerance := time.Now().Unix() - v.Timestamp + 60
		sig, err := signAndVerify(ctx, client, v, &hookwirev1.SignRequest{
			Body: []byte(v.Body), Secret: v.Secret, Scheme: hookwirev1.SignatureScheme_SIGNATURE_SCHEME_STANDARD_WEBHOOKS,
			WebhookId: v.WebhookID, Timestamp: v.Timestamp,
		}, tolerance)
		if err != nil {
			return err
		}
		signatures = append(signatures, sig)
	}

	out, err := json.Marshal(result{"go", reg.GetSubscription().GetId(), trig.GetMessageId(), portal.GetUrl(), signatures})
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

// signAndVerify signs a vector, checks the signature is the vector's, and checks that Verify
// accepts it for the body and refuses it for a changed body, and that a receiver's
// hookwire.VerifyDelivery accepts it in delivery headers.
func signAndVerify(ctx context.Context, client hookwirev1.WebhookServiceClient, v vector, req *hookwirev1.SignRequest, tolerance int64) (string, error) {
	signed, err := client.Sign(ctx, req)
	if err != nil {
		return "", fmt.Errorf("Sign %q: %w", v.Name, err)
	}
	if signed.GetSignature() != v.Signature {
		return "", fmt.Errorf("Sign %q: got %s, want %s", v.Name, signed.GetSignature(), v.Signature)
	}
	for _, check := range []struct {
		body []byte
		want bool
	}{{req.Body, true}, {append([]byte(v.Body), '!'), false}} {
		res, err := client.Verify(ctx, &hookwirev1.VerifyRequest{
			Body: check.body, Signature: signed.GetSignature(), Secret: req.Secret, Scheme: req.Scheme,
			WebhookId: req.WebhookId, Timestamp: req.Timestamp, ToleranceSeconds: tolerance,
		})
		if err != nil {
			return "", fmt.Errorf("Verify %q: %w", v.Name, err)
		}
		if res.GetValid() != check.want {
			return "", fmt.Errorf("Verify %q of %q: valid=%t (%s), want %t", v.Name, check.body, res.GetValid(), res.GetReason(), check.want)
		}
	}

	header := http.Header{}
	opts := &hookwire.VerifyOptions{Scheme: hookwire.SchemeGitHub}
	if req.Scheme == hookwirev1.SignatureScheme_SIGNATURE_SCHEME_STANDARD_WEBHOOKS {
		header.Set("webhook-id", req.WebhookId)
		header.Set("webhook-timestamp", strconv.FormatInt(req.Timestamp, 10))
		header.Set("webhook-signature", signed.GetSignature())
		opts = &hookwire.VerifyOptions{Scheme: hookwire.SchemeStandardWebhooks, Now: time.Unix(req.Timestamp, 0)}
	} else {
		header.Set("x-hub-signature-256", signed.GetSignature())
	}
	if _, err := hookwire.VerifyDelivery(header, req.Body, req.Secret, opts); err != nil {
		return "", fmt.Errorf("VerifyDelivery %q: %w", v.Name, err)
	}
	return signed.GetSignature(), nil
}
