package api

import (
	"sync"
	"time"
)

// Defaults of the failed-authentication throttle (see the package doc).
const (
	authFailureLimit  = 20
	authFailureWindow = 10 * time.Minute
	// authFailureAddresses bounds the memory the throttle uses; beyond it
	// the address whose window started first is forgotten.
	authFailureAddresses = 10000
)

// failureLimiter counts failed authentications per client address in fixed
// windows. It is safe for concurrent use.
type failureLimiter struct {
	mu     sync.Mutex
	now    func() time.Time
	limit  int
	window time.Duration
	max    int
	byAddr map[string]*failureWindow
}

type failureWindow struct {
	start time.Time
	count int
}

func newFailureLimiter(now func() time.Time, limit int, window time.Duration, maxAddrs int) *failureLimiter {
	return &failureLimiter{now: now, limit: limit, window: window, max: maxAddrs, byAddr: map[string]*failureWindow{}}
}

// blocked reports whether addr has failed too often in its current window,
// and how long until the window ends.
func (l *failureLimiter) blocked(addr string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.byAddr[addr]
	if w == nil {
		return 0, false
	}
	left := w.start.Add(l.window).Sub(l.now())
	if left <= 0 {
		delete(l.byAddr, addr)
		return 0, false
	}
	return left, w.count >= l.limit
}

// fail counts one failed authentication from addr.
func (l *failureLimiter) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.byAddr[addr]
	if w != nil && !now.Before(w.start.Add(l.window)) {
		w = nil
	}
	if w == nil {
		if len(l.byAddr) >= l.max {
			l.evict(now)
		}
		w = &failureWindow{start: now}
		l.byAddr[addr] = w
	}
	w.count++
}

// evict forgets expired windows, or else the oldest one.
func (l *failureLimiter) evict(now time.Time) {
	var oldest string
	var oldestStart time.Time
	for addr, w := range l.byAddr {
		if !now.Before(w.start.Add(l.window)) {
			delete(l.byAddr, addr)
			continue
		}
		if oldest == "" || w.start.Before(oldestStart) {
			oldest, oldestStart = addr, w.start
		}
	}
	if len(l.byAddr) >= l.max && oldest != "" {
		delete(l.byAddr, oldest)
	}
}
