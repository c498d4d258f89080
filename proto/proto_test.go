package proto

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestSubjects(t *testing.T) {
	cases := []struct{ got, want string }{
		{JobSubject("default", "r1", "train"), "sous.jobs.default.r1.train"},
		{PoolSubjects("gpu"), "sous.jobs.gpu.>"},
		{EventSubject("r1", EventStepResult), "sous.events.r1.step_result"},
		{RunEventSubjects("r1"), "sous.events.r1.>"},
		{ResultSubjects, "sous.events.*.step_result"},
		{ConsumerName("default"), "workers-default"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestDecodeChecksSchema(t *testing.T) {
	good, _ := json.Marshal(Job{Schema: SchemaVersion, RunID: "r", Step: "s", CacheKey: "k"})
	var job Job
	if err := Decode(good, &job); err != nil || job.Validate() != nil {
		t.Fatalf("good job: %v / %v", err, job.Validate())
	}
	for _, data := range []string{`{"schema": 2, "run_id": "r"}`, `{"run_id": "r"}`} {
		var j Job
		if err := Decode([]byte(data), &j); !errors.Is(err, ErrUnsupportedSchema) {
			t.Errorf("%s: err %v, want ErrUnsupportedSchema", data, err)
		}
	}
	var j Job
	if err := Decode([]byte(`{not json`), &j); err == nil || errors.Is(err, ErrUnsupportedSchema) {
		t.Errorf("bad JSON: err %v", err)
	}
	if err := (&Job{Schema: SchemaVersion}).Validate(); err == nil {
		t.Error("a job without run, step and key validated")
	}
}

func TestErrorCodesAreStable(t *testing.T) {
	// The numbers are on the wire: changing one breaks mixed-version clusters.
	want := map[ErrorCode]string{0: "none", 1: "internal", 2: "bad_input", 3: "store", 4: "timeout", 5: "cancelled",
		6: "max_deliveries", 7: "rejected", 8: "unknown_step", 9: "bad_message", 10: "upstream_failed"}
	for code, name := range want {
		if code.String() != name {
			t.Errorf("code %d is %q, want %q", int(code), code.String(), name)
		}
	}
}
