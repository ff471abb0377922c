// Package hookwire is the hand-written part of Hookwire's Go client: authentication for the
// generated gRPC client (github.com/hookwire/hookwire/go/hookwire/v1) and VerifyDelivery for
// receivers.
package hookwire

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	hookwirev1 "github.com/hookwire/hookwire/go/hookwire/v1"
)

// APIKey returns per-call credentials that send "authorization: Bearer <key>" with every RPC.
// Pass it to grpc.NewClient with grpc.WithPerRPCCredentials.
//
// They are allowed on a cleartext connection, since Hookwire itself speaks cleartext HTTP/2
// (h2c) and a local server is reached that way; across a network, put TLS in front of Hookwire
// and dial it with TLS transport credentials so the key is not sent in the clear.
func APIKey(key string) credentials.PerRPCCredentials {
	return apiKey("Bearer " + key)
}

type apiKey string

func (k apiKey) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": string(k)}, nil
}

func (apiKey) RequireTransportSecurity() bool { return false }

// Client is the generated WebhookServiceClient on its own connection; Close it when done.
type Client struct {
	hookwirev1.WebhookServiceClient
	conn *grpc.ClientConn
}

// Dial makes a client for the Hookwire server at addr (host:port) that authenticates every call
// with the API key. The connection is cleartext HTTP/2 unless opts has other transport
// credentials (grpc.WithTransportCredentials(credentials.NewTLS(...)) for a server behind TLS);
// opts come after the defaults, so they win. Like grpc.NewClient, Dial does not connect: the
// first call does, and reports an unreachable server.
func Dial(addr, key string, opts ...grpc.DialOption) (*Client, error) {
	all := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(APIKey(key)),
	}, opts...)
	conn, err := grpc.NewClient(addr, all...)
	if err != nil {
		return nil, err
	}
	return &Client{hookwirev1.NewWebhookServiceClient(conn), conn}, nil
}

// Conn is the client's connection, for other services on the same server (health, reflection).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }
