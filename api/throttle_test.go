package api

import (
	"testing"
	"time"
)

func TestFailureLimiter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	l := newFailureLimiter(clock, 3, time.Minute, 2)

	for i := range 3 {
		if _, blocked := l.blocked("a"); blocked {
			t.Fatalf("blocked after %d failures, limit 3", i)
		}
		l.fail("a")
	}
	wait, blocked := l.blocked("a")
	if !blocked || wait != time.Minute {
		t.Fatalf("after 3 failures: blocked %v, wait %v; want true, 1m", blocked, wait)
	}
	if _, blocked := l.blocked("b"); blocked {
		t.Error("another address is blocked")
	}

	now = now.Add(40 * time.Second)
	if wait, blocked := l.blocked("a"); !blocked || wait != 20*time.Second {
		t.Errorf("40 s later: blocked %v, wait %v; want true, 20s", blocked, wait)
	}
	now = now.Add(20 * time.Second)
	if _, blocked := l.blocked("a"); blocked {
		t.Error("still blocked when the window ended")
	}

	// At the bound, the oldest window is forgotten to make room.
	l.fail("x")
	now = now.Add(time.Second)
	l.fail("y")
	l.fail("z")
	if len(l.byAddr) != 2 {
		t.Fatalf("%d addresses tracked, want at most 2", len(l.byAddr))
	}
	if _, ok := l.byAddr["x"]; ok {
		t.Error("the oldest window (x) was kept")
	}
}
