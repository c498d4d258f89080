package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/sous-ml/sous/artifacts/registry"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
)

// Version is reported by the coordinator's micro service.
const Version = "0.1.0"

// Serve exposes the coordinator's API (proto.API*) as a NATS micro service on
// its connection. Stop the returned service to stop serving.
func (c *Coordinator) Serve() (micro.Service, error) {
	svc, err := micro.AddService(c.nc, micro.Config{
		Name:        proto.APIService,
		Version:     Version,
		Description: "sous coordinator: submit recipes, follow and cancel runs",
	})
	if err != nil {
		return nil, fmt.Errorf("coordinator: api: %w", err)
	}
	g := svc.AddGroup(proto.APIGroup)
	endpoints := []struct {
		name string
		fn   func(context.Context, []byte) (any, error)
	}{
		{"submit", c.apiSubmit},
		{"status", c.apiStatus},
		{"cancel", c.apiCancel},
		{"runs", c.apiRuns},
		{"plan", c.apiPlan},
		{"models", c.apiModels},
	}
	for _, e := range endpoints {
		fn := e.fn
		err := g.AddEndpoint(e.name, micro.HandlerFunc(func(req micro.Request) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			reply, err := fn(ctx, req.Data())
			if err != nil {
				_ = req.Error(strconv.Itoa(int(apiCode(err))), err.Error(), nil)
				return
			}
			_ = req.RespondJSON(reply)
		}))
		if err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("coordinator: api %s: %w", e.name, err)
		}
	}
	return svc, nil
}

func apiCode(err error) proto.ErrorCode {
	var rerr *recipes.Error
	var rerrs recipes.Errors
	var ie *inputError
	switch {
	case errors.As(err, &rerr), errors.As(err, &rerrs), errors.As(err, &ie), errors.Is(err, proto.ErrUnsupportedSchema):
		return proto.CodeBadInput
	case errors.Is(err, ErrUnknownRun):
		return proto.CodeBadInput
	}
	return proto.CodeInternal
}

func (c *Coordinator) apiSubmit(ctx context.Context, data []byte) (any, error) {
	var req proto.SubmitRequest
	if err := proto.Decode(data, &req); err != nil {
		return nil, err
	}
	return c.Submit(ctx, req)
}

func (c *Coordinator) apiPlan(ctx context.Context, data []byte) (any, error) {
	var req proto.SubmitRequest
	if err := proto.Decode(data, &req); err != nil {
		return nil, err
	}
	steps, err := c.Plan(ctx, req)
	if err != nil {
		return nil, err
	}
	return proto.PlanReply{Steps: steps}, nil
}

func (c *Coordinator) apiModels(ctx context.Context, data []byte) (any, error) {
	var req proto.ModelsRequest
	if len(data) > 0 {
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, &inputError{err}
		}
	}
	if req.Name == "" {
		names, err := registry.Models(ctx, c.store)
		if err != nil {
			return nil, err
		}
		return proto.ModelsReply{Models: names}, nil
	}
	versions, err := registry.List(ctx, c.store, req.Name)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return nil, &inputError{err}
		}
		return nil, err
	}
	reply := proto.ModelsReply{}
	for _, v := range versions {
		doc, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		reply.Versions = append(reply.Versions, doc)
	}
	return reply, nil
}

func decodeRunRequest(data []byte) (proto.RunRequest, error) {
	var req proto.RunRequest
	if err := json.Unmarshal(data, &req); err != nil || req.RunID == "" {
		return req, &inputError{errors.New("want {\"run_id\": ...}")}
	}
	return req, nil
}

func (c *Coordinator) apiStatus(ctx context.Context, data []byte) (any, error) {
	req, err := decodeRunRequest(data)
	if err != nil {
		return nil, err
	}
	return c.Status(ctx, req.RunID)
}

func (c *Coordinator) apiCancel(ctx context.Context, data []byte) (any, error) {
	req, err := decodeRunRequest(data)
	if err != nil {
		return nil, err
	}
	if err := c.Cancel(ctx, req.RunID); err != nil {
		return nil, err
	}
	return c.Status(ctx, req.RunID)
}

func (c *Coordinator) apiRuns(ctx context.Context, data []byte) (any, error) {
	var req proto.RunsRequest
	if len(data) > 0 {
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, &inputError{err}
		}
	}
	runs, err := c.Runs(ctx, req.Limit)
	if err != nil {
		return nil, err
	}
	return proto.RunsReply{Runs: runs}, nil
}

// Runs lists the runs recorded in KV, newest first (run ids sort by time).
func (c *Coordinator) Runs(ctx context.Context, limit int) ([]proto.RunState, error) {
	lister, err := c.runsKV.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("coordinator: list runs: %w", err)
	}
	var ids []string
	for k := range lister.Keys() {
		if !strings.HasSuffix(k, ".request") {
			ids = append(ids, k)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]proto.RunState, 0, len(ids))
	for _, id := range ids {
		st, err := c.Status(ctx, id)
		if err != nil {
			continue
		}
		out = append(out, *st)
	}
	return out, nil
}
