package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/spf13/pflag"

	"github.com/sous-ml/sous/proto"
)

// natsFlags are the connection settings of every command that talks to a cluster.
type natsFlags struct {
	url      string
	creds    string
	nkey     string
	user     string
	password string
	token    string
	tlsCA    string
	tlsCert  string
	tlsKey   string
}

func (f *natsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.url, "nats", os.Getenv("SOUS_NATS_URL"), "NATS server URL(s), comma-separated ($SOUS_NATS_URL); empty runs the embedded runtime")
	fs.StringVar(&f.creds, "nats-creds", os.Getenv("SOUS_NATS_CREDS"), "NATS credentials file (JWT and nkey) ($SOUS_NATS_CREDS)")
	fs.StringVar(&f.nkey, "nats-nkey", os.Getenv("SOUS_NATS_NKEY"), "NATS nkey seed file ($SOUS_NATS_NKEY)")
	fs.StringVar(&f.user, "nats-user", os.Getenv("SOUS_NATS_USER"), "NATS user ($SOUS_NATS_USER)")
	fs.StringVar(&f.password, "nats-password", os.Getenv("SOUS_NATS_PASSWORD"), "NATS password ($SOUS_NATS_PASSWORD)")
	fs.StringVar(&f.token, "nats-token", os.Getenv("SOUS_NATS_TOKEN"), "NATS token ($SOUS_NATS_TOKEN)")
	fs.StringVar(&f.tlsCA, "nats-tls-ca", os.Getenv("SOUS_NATS_TLS_CA"), "CA certificate for the NATS server ($SOUS_NATS_TLS_CA)")
	fs.StringVar(&f.tlsCert, "nats-tls-cert", os.Getenv("SOUS_NATS_TLS_CERT"), "client certificate for NATS TLS ($SOUS_NATS_TLS_CERT)")
	fs.StringVar(&f.tlsKey, "nats-tls-key", os.Getenv("SOUS_NATS_TLS_KEY"), "client key for NATS TLS ($SOUS_NATS_TLS_KEY)")
}

// connect opens a NATS connection that reconnects forever: a restarted
// server is found again and JetStream state carries on.
func (f *natsFlags) connect(name string) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
	}
	if f.creds != "" {
		opts = append(opts, nats.UserCredentials(f.creds))
	}
	if f.nkey != "" {
		o, err := nats.NkeyOptionFromSeed(f.nkey)
		if err != nil {
			return nil, fmt.Errorf("--nats-nkey: %w", err)
		}
		opts = append(opts, o)
	}
	if f.user != "" {
		opts = append(opts, nats.UserInfo(f.user, f.password))
	}
	if f.token != "" {
		opts = append(opts, nats.Token(f.token))
	}
	if f.tlsCA != "" {
		opts = append(opts, nats.RootCAs(f.tlsCA))
	}
	if f.tlsCert != "" || f.tlsKey != "" {
		opts = append(opts, nats.ClientCert(f.tlsCert, f.tlsKey))
	}
	nc, err := nats.Connect(f.url, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", redactURL(f.url), err)
	}
	return nc, nil
}

// redactURL hides a password in a nats://user:pass@host URL.
func redactURL(u string) string {
	if at := strings.LastIndex(u, "@"); at > 0 {
		if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
			return u[:scheme+3] + "***" + u[at:]
		}
	}
	return u
}

// apiError is a failed coordinator request.
type apiError struct {
	code proto.ErrorCode
	msg  string
}

func (e *apiError) Error() string { return e.msg }

// call sends one API request and decodes its reply.
func call(ctx context.Context, nc *nats.Conn, subject string, req, reply any) error {
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var msg *nats.Msg
	for {
		msg, err = nc.RequestWithContext(ctx, subject, data)
		if !errors.Is(err, nats.ErrNoResponders) {
			break
		}
		// No coordinator yet (it may be starting or restarting): wait a little.
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: no coordinator answers: %w", subject, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", subject, err)
	}
	if desc := msg.Header.Get(micro.ErrorHeader); desc != "" {
		code, _ := strconv.Atoi(msg.Header.Get(micro.ErrorCodeHeader))
		return &apiError{code: proto.ErrorCode(code), msg: desc}
	}
	if err := json.Unmarshal(msg.Data, reply); err != nil {
		return fmt.Errorf("%s: reply: %w", subject, err)
	}
	return nil
}

// conn is what the CLI needs of a runtime, embedded or remote.
type conn struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	embedded bool
}
