package worker

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Delivery is one delivered job message: the part of jetstream.Msg the worker uses.
type Delivery interface {
	Data() []byte
	Ack() error
	Nak() error
	NakWithDelay(d time.Duration) error
	InProgress() error
	Term() error
	// NumDelivered is how many times this message has been delivered, this time included.
	NumDelivered() uint64
}

type jsDelivery struct{ jetstream.Msg }

func (d jsDelivery) NumDelivered() uint64 {
	md, err := d.Metadata()
	if err != nil {
		return 1
	}
	return md.NumDelivered
}
