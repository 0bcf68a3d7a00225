package conformance

import (
	"context"
	"fmt"
	"strings"
)

// T is one module run in progress: the environment plus the failures,
// warnings and skip reason collected so far. Modules call Failf for every
// broken requirement (and keep checking where that still makes sense), Warnf
// for a SHOULD that is not met, and Skipf when the provider legitimately
// does not offer the feature under test.
type T struct {
	Ctx context.Context
	Env *Env

	failures []string
	warnings []string
	skip     string
}

// NewT starts a module run.
func NewT(ctx context.Context, env *Env) *T { return &T{Ctx: ctx, Env: env} }

// Failf records a broken requirement.
func (t *T) Failf(format string, args ...any) {
	t.failures = append(t.failures, fmt.Sprintf(format, args...))
}

// Warnf records an unmet recommendation.
func (t *T) Warnf(format string, args ...any) {
	t.warnings = append(t.warnings, fmt.Sprintf(format, args...))
}

// Skipf marks the module skipped; failures recorded before still win.
func (t *T) Skipf(format string, args ...any) {
	if t.skip == "" {
		t.skip = fmt.Sprintf(format, args...)
	}
}

// Failed reports whether a failure has been recorded.
func (t *T) Failed() bool { return len(t.failures) > 0 }

// Stopped reports whether the module should not go on: it failed or skipped.
func (t *T) Stopped() bool { return t.Failed() || t.skip != "" }

// Result turns what was collected into the module's result.
func (t *T) Result() Result {
	switch {
	case len(t.failures) > 0:
		return Result{Status: StatusFail, Reason: strings.Join(t.failures, "; "), Warnings: t.warnings}
	case t.skip != "":
		return Result{Status: StatusSkip, Reason: t.skip, Warnings: t.warnings}
	default:
		return Result{Status: StatusPass, Warnings: t.warnings}
	}
}
