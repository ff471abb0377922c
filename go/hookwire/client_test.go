package hookwire_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/hookwire/hookwire/go/hookwire"
	hookwirev1 "github.com/hookwire/hookwire/go/hookwire/v1"
)

func TestAPIKey(t *testing.T) {
	creds := hookwire.APIKey("k_123")
	md, err := creds.GetRequestMetadata(context.Background())
	if err != nil || len(md) != 1 || md["authorization"] != "Bearer k_123" {
		t.Fatalf("got (%v, %v)", md, err)
	}
	if creds.RequireTransportSecurity() {
		t.Fatal("the key must be usable on a cleartext local connection")
	}
}

func TestDialDoesNotConnect(t *testing.T) {
	c, err := hookwire.Dial("127.0.0.1:1", "k_123")
	if err != nil {
		t.Fatal(err)
	}
	if c.Conn() == nil {
		t.Fatal("no connection")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// signer answers Sign with the authorization metadata it received.
type signer struct {
	hookwirev1.UnimplementedWebhookServiceServer
}

func (signer) Sign(ctx context.Context, _ *hookwirev1.SignRequest) (*hookwirev1.SignResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	return &hookwirev1.SignResponse{Signature: strings.Join(md.Get("authorization"), ",")}, nil
}

func TestDialSendsTheKeyOnEveryCall(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hookwirev1.RegisterWebhookServiceServer(srv, signer{})
	go srv.Serve(lis)
	defer srv.Stop()

	c, err := hookwire.Dial(lis.Addr().String(), "k_123")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 {
		res, err := c.Sign(ctx, &hookwirev1.SignRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetSignature() != "Bearer k_123" {
			t.Fatalf("the server saw authorization %q", res.GetSignature())
		}
	}
}
