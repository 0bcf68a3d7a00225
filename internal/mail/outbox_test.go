package mail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOutboxAppendsAndReads(t *testing.T) {
	path := DefaultOutboxPath(filepath.Join(t.TempDir(), "data"))
	if got, err := ReadOutbox(path); err != nil || len(got) != 0 {
		t.Fatalf("ReadOutbox(missing file) = %v, %v; want no messages", got, err)
	}
	o := NewOutbox(path, nil)
	want := []Message{
		{To: "a@example.com", Subject: "Hello", Text: "line 1\nline 2"},
		{To: "Bé <b@example.com>", Subject: "Ünïcode", Text: "t", HTML: "<p>h</p>"},
	}
	for _, m := range want {
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("outbox mode = %v, %v; want 0600 (messages carry single-use links)", st.Mode(), err)
	}
}

func TestOutboxConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), OutboxFile)
	// Two Outbox values on one file stand for two processes.
	a, b := NewOutbox(path, nil), NewOutbox(path, nil)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := a
			if i%2 == 1 {
				o = b
			}
			big := fmt.Sprintf("%d:%0*d", i, 8000, 0) // long lines must not interleave
			if err := o.Send(context.Background(), Message{To: fmt.Sprintf("u%d@example.com", i), Subject: "s", Text: big}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := ReadOutbox(path)
	if err != nil {
		t.Fatalf("ReadOutbox after concurrent writes: %v", err)
	}
	seen := map[string]bool{}
	for _, m := range got {
		seen[m.To] = true
	}
	if len(got) != n || len(seen) != n {
		t.Errorf("outbox holds %d messages (%d distinct recipients), want %d", len(got), len(seen), n)
	}
}

func TestMessageValidation(t *testing.T) {
	o := NewOutbox(filepath.Join(t.TempDir(), OutboxFile), nil)
	for name, m := range map[string]Message{
		"no recipient":         {Subject: "s", Text: "t"},
		"two recipients":       {To: "a@example.com, b@example.com", Subject: "s", Text: "t"},
		"header injection to":  {To: "a@example.com\r\nBcc: c@example.com", Subject: "s", Text: "t"},
		"header injection sub": {To: "a@example.com", Subject: "s\r\nBcc: c@example.com", Text: "t"},
		"no body":              {To: "a@example.com", Subject: "s"},
		"not an address":       {To: "nobody", Subject: "s", Text: "t"},
	} {
		if err := o.Send(context.Background(), m); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: Send = %v, want ErrInvalidMessage", name, err)
		}
	}
	if got, _ := ReadOutbox(o.Path()); len(got) != 0 {
		t.Errorf("invalid messages reached the outbox: %v", got)
	}
}
