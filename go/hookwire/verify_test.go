package hookwire_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookwire/hookwire/go/hookwire"
)

// The shared vectors, also checked by the server's, the SDK's and the Python package's tests.
const vectorsPath = "../../test/vectors/signatures.json"

type vector struct {
	Name      string `json:"name"`
	Body      string `json:"body"`
	Secret    string `json:"secret"`
	Signature string `json:"signature"`
	WebhookID string `json:"webhook_id"`
	Timestamp int64  `json:"timestamp"`
}

func loadVectors(t *testing.T) (github, standard []vector) {
	t.Helper()
	raw, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Github   []vector `json:"github"`
		Standard []vector `json:"standard_webhooks"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Github) == 0 || len(v.Standard) == 0 {
		t.Fatal("no vectors")
	}
	return v.Github, v.Standard
}

// refused checks that err is a *VerifyError whose reason contains want.
func refused(t *testing.T, name string, d *hookwire.Delivery, err error, want string) {
	t.Helper()
	var ve *hookwire.VerifyError
	if d != nil || !errors.As(err, &ve) || !errors.Is(err, hookwire.ErrNotVerified) {
		t.Fatalf("%s: got (%v, %v), want a *VerifyError", name, d, err)
	}
	if !strings.Contains(ve.Reason, want) {
		t.Fatalf("%s: reason %q, want it to contain %q", name, ve.Reason, want)
	}
}

func TestGitHubVectors(t *testing.T) {
	github, _ := loadVectors(t)
	gh := &hookwire.VerifyOptions{Scheme: hookwire.SchemeGitHub}
	for _, v := range github {
		body := []byte(v.Body)
		// As net/http gives them (canonical), and built by hand in lower and mixed case.
		headers := map[string]http.Header{
			"canonical":  {"X-Hub-Signature-256": {v.Signature}, "X-Webhook-Event": {"order.created"}},
			"lower case": {"x-hub-signature-256": {v.Signature}, "x-webhook-event": {"order.created"}},
			"mixed case": {"X-HUB-Signature-256": {v.Signature}, "X-WEBHOOK-event": {"order.created"}},
		}
		for spelling, h := range headers {
			d, err := hookwire.VerifyDelivery(h, body, v.Secret, gh)
			if err != nil {
				t.Fatalf("%s (%s): %v", v.Name, spelling, err)
			}
			if d.Scheme != hookwire.SchemeGitHub || d.Event != "order.created" {
				t.Fatalf("%s (%s): got %+v", v.Name, spelling, d)
			}
		}
		h := headers["canonical"]
		d, err := hookwire.VerifyDelivery(h, append(body, '!'), v.Secret, gh)
		refused(t, v.Name+" (tampered body)", d, err, "signature does not match")
		d, err = hookwire.VerifyDelivery(h, body, v.Secret+"x", gh)
		refused(t, v.Name+" (wrong secret)", d, err, "signature does not match")
		d, err = hookwire.VerifyDelivery(http.Header{"X-Hub-Signature-256": {strings.TrimPrefix(v.Signature, "sha256=")}}, body, v.Secret, gh)
		refused(t, v.Name+" (no prefix)", d, err, `does not start with "sha256="`)
		d, err = hookwire.VerifyDelivery(http.Header{"X-Hub-Signature-256": {v.Signature[:40]}}, body, v.Secret, gh)
		refused(t, v.Name+" (short)", d, err, "not 64 hex digits")
		d, err = hookwire.VerifyDelivery(http.Header{}, body, v.Secret, gh)
		refused(t, v.Name+" (no header)", d, err, "x-hub-signature-256 header is missing")
	}
}

func TestGitHubIsTheDefaultForOtherSecrets(t *testing.T) {
	github, _ := loadVectors(t)
	v := github[0] // "It's a Secret to Everybody": not a whsec_ secret
	d, err := hookwire.VerifyDelivery(http.Header{"X-Hub-Signature-256": {v.Signature}}, []byte(v.Body), v.Secret, nil)
	if err != nil || d.Scheme != hookwire.SchemeGitHub {
		t.Fatalf("got (%+v, %v)", d, err)
	}
	d, err = hookwire.VerifyDelivery(http.Header{"X-Hub-Signature-256": {v.Signature}}, []byte(v.Body), "", nil)
	refused(t, "empty secret", d, err, "secret: must not be empty")
}

func standardHeader(v vector, signature string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", v.WebhookID)
	h.Set("webhook-timestamp", strconv.FormatInt(v.Timestamp, 10))
	h.Set("webhook-signature", signature)
	h.Set("x-webhook-event", "order.created")
	return h
}

func TestStandardWebhooksVectors(t *testing.T) {
	_, standard := loadVectors(t)
	for _, v := range standard {
		body := []byte(v.Body)
		at := time.Unix(v.Timestamp, 0)
		opts := func(now time.Time) *hookwire.VerifyOptions { return &hookwire.VerifyOptions{Now: now} }
		// During a key rotation the header carries several signatures; any one may match.
		h := standardHeader(v, "v1,bm90IGl0 "+v.Signature)

		d, err := hookwire.VerifyDelivery(h, body, v.Secret, opts(at.Add(4*time.Minute)))
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		want := hookwire.Delivery{Scheme: hookwire.SchemeStandardWebhooks, WebhookID: v.WebhookID, Event: "order.created", Timestamp: at}
		if *d != want {
			t.Fatalf("%s: got %+v, want %+v", v.Name, *d, want)
		}
		for spelling, hh := range map[string]http.Header{
			"lower case": {"webhook-id": {v.WebhookID}, "webhook-timestamp": {strconv.FormatInt(v.Timestamp, 10)}, "webhook-signature": {v.Signature}},
			"mixed case": {"Webhook-ID": {v.WebhookID}, "WEBHOOK-Timestamp": {strconv.FormatInt(v.Timestamp, 10)}, "webhook-Signature": {v.Signature}},
		} {
			if _, err := hookwire.VerifyDelivery(hh, body, v.Secret, opts(at)); err != nil {
				t.Fatalf("%s (%s): %v", v.Name, spelling, err)
			}
		}

		d, err = hookwire.VerifyDelivery(h, append(body, '!'), v.Secret, opts(at))
		refused(t, v.Name+" (tampered body)", d, err, "signature does not match")
		d, err = hookwire.VerifyDelivery(h, body, "whsec_"+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", opts(at))
		refused(t, v.Name+" (wrong secret)", d, err, "signature does not match")
		d, err = hookwire.VerifyDelivery(h, body, v.Secret, opts(at.Add(6*time.Minute)))
		refused(t, v.Name+" (old timestamp)", d, err, "timestamp is too old")
		d, err = hookwire.VerifyDelivery(h, body, v.Secret, nil) // the vectors are years old
		refused(t, v.Name+" (old timestamp, the clock)", d, err, "timestamp is too old")
		d, err = hookwire.VerifyDelivery(h, body, v.Secret, opts(at.Add(-6*time.Minute)))
		refused(t, v.Name+" (future timestamp)", d, err, "timestamp is too far in the future")
		d, err = hookwire.VerifyDelivery(h, body, v.Secret, &hookwire.VerifyOptions{Now: at.Add(time.Hour), Tolerance: 2 * time.Hour})
		if err != nil {
			t.Fatalf("%s (wider tolerance): %v", v.Name, err)
		}

		other := standardHeader(v, v.Signature)
		other.Set("webhook-id", v.WebhookID+"x")
		d, err = hookwire.VerifyDelivery(other, body, v.Secret, opts(at))
		refused(t, v.Name+" (other id)", d, err, "signature does not match")
		other = standardHeader(v, v.Signature)
		other.Set("webhook-timestamp", strconv.FormatInt(v.Timestamp+1, 10))
		d, err = hookwire.VerifyDelivery(other, body, v.Secret, opts(at))
		refused(t, v.Name+" (other timestamp)", d, err, "signature does not match")

		for _, c := range []struct{ name, header, value, want string }{
			{"no signature", "webhook-signature", "", "webhook-signature header is missing"},
			{"no v1 entry", "webhook-signature", "v2," + strings.TrimPrefix(v.Signature, "v1,"), `no "v1," entry`},
			{"no id", "webhook-id", "", "webhook-id header is missing"},
			{"no timestamp", "webhook-timestamp", "", "webhook-timestamp header is missing or not Unix seconds"},
			{"timestamp not seconds", "webhook-timestamp", "2021-02-25T15:02:10Z", "not Unix seconds"},
		} {
			hh := standardHeader(v, v.Signature)
			if c.value == "" {
				hh.Del(c.header)
			} else {
				hh.Set(c.header, c.value)
			}
			d, err := hookwire.VerifyDelivery(hh, body, v.Secret, opts(at))
			refused(t, v.Name+" ("+c.name+")", d, err, c.want)
		}
		d, err = hookwire.VerifyDelivery(h, body, "whsec_not base64!", opts(at))
		refused(t, v.Name+" (secret not base64)", d, err, `"whsec_" followed by base64`)

		// The MAC's base64 with the last character's two unused bits set decodes to the same bytes;
		// like the standardwebhooks libraries, only the canonical text is taken.
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		b64 := strings.TrimPrefix(v.Signature, "v1,")
		loose := b64[:42] + string(alphabet[strings.IndexByte(alphabet, b64[42])^1]) + "="
		d, err = hookwire.VerifyDelivery(standardHeader(v, "v1,"+loose), body, v.Secret, opts(at))
		refused(t, v.Name+" (non-canonical base64)", d, err, "signature does not match")
	}
}

// A whsec_ secret never falls back to x-hub-signature-256, which signs neither id nor time; and
// any other secret never looks at the webhook-* headers.
func TestNoFallback(t *testing.T) {
	github, standard := loadVectors(t)
	g := github[1] // keyed with a whsec_ secret as written
	d, err := hookwire.VerifyDelivery(http.Header{"X-Hub-Signature-256": {g.Signature}}, []byte(g.Body), g.Secret, nil)
	refused(t, "whsec_ secret, GitHub signature only", d, err, "webhook-signature header is missing")

	s := standard[1]
	at := time.Unix(s.Timestamp, 0)
	h := standardHeader(s, "v1,bm90IGl0")
	h.Set("x-hub-signature-256", g.Signature) // correct for the body and secret, but not checked
	d, err = hookwire.VerifyDelivery(h, []byte(s.Body), s.Secret, &hookwire.VerifyOptions{Now: at})
	refused(t, "whsec_ secret, wrong webhook-signature, right x-hub-signature-256", d, err, "signature does not match")

	v := github[0]
	sw := standard[0]
	h = standardHeader(sw, sw.Signature)
	d, err = hookwire.VerifyDelivery(h, []byte(sw.Body), v.Secret, &hookwire.VerifyOptions{Now: time.Unix(sw.Timestamp, 0)})
	refused(t, "other secret, webhook-* headers only", d, err, "x-hub-signature-256 header is missing")

	d, err = hookwire.VerifyDelivery(h, []byte(sw.Body), sw.Secret, &hookwire.VerifyOptions{Scheme: "v2"})
	refused(t, "unknown scheme", d, err, "unknown scheme")
}
