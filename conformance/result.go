package conformance

import (
	"fmt"
	"strings"
	"time"
)

// Status is a module's outcome.
type Status string

// The three outcomes of a module.
const (
	StatusPass Status = "PASS"
	StatusFail Status = "FAIL"
	StatusSkip Status = "SKIP"
)

// Result is what one module reports: its status, why, and the warnings it
// raised on the way (a warning never fails a module, as in the OpenID
// Foundation suite, but is shown so that the operator sees it).
type Result struct {
	Status   Status
	Reason   string
	Warnings []string
}

// Pass, Fail and Skip build results for modules that need no T.
func Pass() Result { return Result{Status: StatusPass} }

// Fail reports a failed module.
func Fail(format string, args ...any) Result {
	return Result{Status: StatusFail, Reason: fmt.Sprintf(format, args...)}
}

// Skip reports a module that could not or need not run.
func Skip(format string, args ...any) Result {
	return Result{Status: StatusSkip, Reason: fmt.Sprintf(format, args...)}
}

// ModuleResult is a module's result within a run.
type ModuleResult struct {
	Plan     string
	Module   string
	Result   Result
	Duration time.Duration
}

// Line is the one-line text form: "PASS plan/module", "FAIL plan/module:
// reason", "SKIP plan/module: reason".
func (m ModuleResult) Line() string {
	name := m.Plan + "/" + m.Module
	var b strings.Builder
	b.WriteString(string(m.Result.Status))
	b.WriteString(" ")
	b.WriteString(name)
	if m.Result.Reason != "" {
		b.WriteString(": ")
		b.WriteString(oneLine(m.Result.Reason))
	}
	for _, w := range m.Result.Warnings {
		b.WriteString("\n    warning: ")
		b.WriteString(oneLine(w))
	}
	return b.String()
}

// oneLine keeps a reason on its line whatever the provider sent.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
