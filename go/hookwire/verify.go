package hookwire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Scheme is how a delivery is signed.
type Scheme string

const (
	// SchemeStandardWebhooks: webhook-id, webhook-timestamp and webhook-signature headers,
	// "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), key = base64 after "whsec_".
	SchemeStandardWebhooks Scheme = "standard-webhooks"
	// SchemeGitHub: x-hub-signature-256 = "sha256=" + hex(HMAC-SHA256(secret as written, body)).
	// It signs neither an id nor a time, so it gives no replay protection.
	SchemeGitHub Scheme = "github"
)

// DefaultTolerance is how far webhook-timestamp may be from now unless VerifyOptions says otherwise.
const DefaultTolerance = 5 * time.Minute

const (
	secretPrefix   = "whsec_"
	githubPrefix   = "sha256="
	standardPrefix = "v1,"
)

// VerifyOptions are VerifyDelivery's options; a nil *VerifyOptions means all defaults.
type VerifyOptions struct {
	// Scheme is the one scheme checked; the other is never tried. Default: SchemeStandardWebhooks
	// for a "whsec_" secret, SchemeGitHub for any other secret.
	Scheme Scheme
	// Tolerance is how far webhook-timestamp may be from Now, in whole seconds (default 5 minutes).
	Tolerance time.Duration
	// Now is the time to check webhook-timestamp against (default time.Now()).
	Now time.Time
}

// Delivery is what VerifyDelivery found in a delivery it accepted.
type Delivery struct {
	Scheme Scheme
	// WebhookID is the webhook-id header: the message's id, the same on every retry, for deduping.
	WebhookID string
	// Event is the x-webhook-event header.
	Event string
	// Timestamp is webhook-timestamp (SchemeStandardWebhooks only; zero for SchemeGitHub).
	Timestamp time.Time
}

// ErrNotVerified is wrapped by every error VerifyDelivery returns: errors.Is(err, ErrNotVerified).
var ErrNotVerified = errors.New("hookwire: delivery not verified")

// VerifyError is the error VerifyDelivery returns; Reason says why the delivery was refused.
type VerifyError struct {
	Scheme Scheme
	Reason string
}

func (e *VerifyError) Error() string {
	return "hookwire: delivery not verified (" + string(e.Scheme) + "): " + e.Reason
}

func (e *VerifyError) Unwrap() error { return ErrNotVerified }

// VerifyDelivery checks a delivery's signature from its headers and raw body (read it whole and
// verify before parsing it: re-encoded JSON does not match). secret is the subscription's secret.
// Header names are matched case-insensitively, also in an http.Header built by hand with keys
// that are not canonical. It returns a *VerifyError (wrapping ErrNotVerified) saying why when
// the delivery is refused.
//
// Only one scheme is checked (see VerifyOptions.Scheme): with a "whsec_" secret a delivery
// without webhook-signature is refused, never checked against x-hub-signature-256 instead,
// since that header signs neither the id nor the time and would let a captured delivery be
// replayed with the webhook-* headers stripped.
func VerifyDelivery(header http.Header, body []byte, secret string, opts *VerifyOptions) (*Delivery, error) {
	var o VerifyOptions
	if opts != nil {
		o = *opts
	}
	scheme := o.Scheme
	if scheme == "" {
		scheme = SchemeGitHub
		if strings.HasPrefix(secret, secretPrefix) {
			scheme = SchemeStandardWebhooks
		}
	}
	refuse := func(reason string) (*Delivery, error) {
		return nil, &VerifyError{Scheme: scheme, Reason: reason}
	}
	d := &Delivery{Scheme: scheme, WebhookID: headerValue(header, "webhook-id"), Event: headerValue(header, "x-webhook-event")}

	switch scheme {
	case SchemeGitHub:
		sig := headerValue(header, "x-hub-signature-256")
		if sig == "" {
			return refuse("x-hub-signature-256 header is missing")
		}
		if reason := checkGitHub(body, sig, secret); reason != "" {
			return refuse(reason)
		}
		return d, nil
	case SchemeStandardWebhooks:
		sig := headerValue(header, "webhook-signature")
		if sig == "" {
			return refuse("webhook-signature header is missing")
		}
		if d.WebhookID == "" {
			return refuse("webhook-id header is missing")
		}
		ts := headerValue(header, "webhook-timestamp")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || sec <= 0 {
			return refuse("webhook-timestamp header is missing or not Unix seconds")
		}
		if reason := checkStandard(d.WebhookID, sec, body, sig, secret, o); reason != "" {
			return refuse(reason)
		}
		d.Timestamp = time.Unix(sec, 0)
		return d, nil
	default:
		return refuse(`unknown scheme (want "standard-webhooks" or "github")`)
	}
}

// headerValue is the first value of a header, its name matched case-insensitively.
func headerValue(header http.Header, name string) string {
	if v := header.Values(name); len(v) > 0 {
		return v[0]
	}
	for k, v := range header {
		if len(v) > 0 && strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}

func checkGitHub(body []byte, sig, secret string) string {
	if secret == "" {
		return "secret: must not be empty"
	}
	if !strings.HasPrefix(sig, githubPrefix) {
		return `signature does not start with "sha256="`
	}
	given, err := hex.DecodeString(sig[len(githubPrefix):])
	if err != nil || len(given) != sha256.Size {
		return "signature is not 64 hex digits"
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(given, mac.Sum(nil)) {
		return "signature does not match"
	}
	return ""
}

func checkStandard(id string, sec int64, body []byte, sig, secret string, o VerifyOptions) string {
	encoded := strings.TrimPrefix(secret, secretPrefix)
	key, err := base64.StdEncoding.DecodeString(encoded)
	if encoded == "" || err != nil || strings.ContainsAny(encoded, "\r\n") {
		return `secret: for the Standard Webhooks scheme it must be "whsec_" followed by base64`
	}
	tolerance := int64(o.Tolerance / time.Second)
	if tolerance <= 0 {
		tolerance = int64(DefaultTolerance / time.Second)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	if sec < now.Unix()-tolerance {
		return "timestamp is too old"
	}
	if sec > now.Unix()+tolerance {
		return "timestamp is too far in the future"
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(sec, 10) + "."))
	mac.Write(body)
	// Compared as text with the MAC's canonical base64, as the standardwebhooks libraries compare (and
	// Hookwire's TypeScript verifier): a text that decodes to the MAC but is not its encoding is refused.
	expected := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	// The header may carry several space-separated signatures (during key rotation); any may match.
	sawV1 := false
	for _, entry := range strings.Fields(sig) {
		if !strings.HasPrefix(entry, standardPrefix) {
			continue
		}
		sawV1 = true
		if hmac.Equal([]byte(entry[len(standardPrefix):]), expected) {
			return ""
		}
	}
	if sawV1 {
		return "signature does not match"
	}
	return `signature has no "v1," entry`
}
