package mail

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// OutboxFile is the outbox's file name in the data directory.
const OutboxFile = "outbox.jsonl"

// DefaultOutboxPath is where the development outbox lives in dataDir.
func DefaultOutboxPath(dataDir string) string { return filepath.Join(dataDir, OutboxFile) }

// Outbox is the development Mailer: it appends each message to a file as
// one JSON line instead of sending it. It is safe for concurrent use, and
// several processes may append to one file: each message is one write to a
// file opened with O_APPEND.
type Outbox struct {
	path   string
	logger *slog.Logger
	mu     sync.Mutex
}

// NewOutbox returns an Outbox writing to path (created on first use, with
// its directory). logger receives one line per message; nil discards.
func NewOutbox(path string, logger *slog.Logger) *Outbox {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Outbox{path: path, logger: logger}
}

// Path is the file the outbox writes.
func (o *Outbox) Path() string { return o.path }

// outboxRecord is one line of the file.
type outboxRecord struct {
	SentAt int64 `json:"sent_at"` // Unix milliseconds, for people reading the file
	Message
}

// Send appends m to the outbox file.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	line, err := json.Marshal(outboxRecord{SentAt: time.Now().UnixMilli(), Message: m})
	if err != nil {
		return fmt.Errorf("mail outbox: encode: %w", err)
	}
	line = append(line, '\n')
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(o.path), 0o700); err != nil {
		return fmt.Errorf("mail outbox: create directory: %w", err)
	}
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("mail outbox: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("mail outbox: write %s: %w", o.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mail outbox: write %s: %w", o.path, err)
	}
	// The body may hold a single-use link: log who and what, never the body.
	o.logger.InfoContext(ctx, "mail written to the development outbox", "to", m.To, "subject", m.Subject, "path", o.path)
	return nil
}

// ReadOutbox returns the messages in an outbox file, oldest first. A file
// that does not exist yet holds no messages.
func ReadOutbox(path string) ([]Message, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer f.Close()
	var out []Message
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec outboxRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("read outbox %s line %d: %w", path, n, err)
		}
		out = append(out, rec.Message)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read outbox %s: %w", path, err)
	}
	return out, nil
}
