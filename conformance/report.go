package conformance

import (
	"encoding/json"
	"fmt"
	"os"
)

// Report is the machine-readable result of a run (orgid conformance run
// --json FILE). Times are Unix milliseconds.
type Report struct {
	Object     string       `json:"object"`
	Issuer     string       `json:"issuer"`
	StartedAt  int64        `json:"started_at"`
	FinishedAt int64        `json:"finished_at"`
	Passed     int          `json:"passed"`
	Failed     int          `json:"failed"`
	Skipped    int          `json:"skipped"`
	Plans      []PlanReport `json:"plans"`
}

// PlanReport is one plan's results.
type PlanReport struct {
	Name    string         `json:"name"`
	Title   string         `json:"title"`
	Results []ModuleReport `json:"results"`
}

// ModuleReport is one module's result.
type ModuleReport struct {
	Module     string   `json:"module"`
	Status     Status   `json:"status"`
	Reason     string   `json:"reason,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	DurationMS int64    `json:"duration_ms"`
}

func newModuleReport(m ModuleResult) ModuleReport {
	return ModuleReport{Module: m.Module, Status: m.Result.Status, Reason: m.Result.Reason,
		Warnings: m.Result.Warnings, DurationMS: m.Duration.Milliseconds()}
}

func (r *Report) count() {
	r.Passed, r.Failed, r.Skipped = 0, 0, 0
	for _, p := range r.Plans {
		for _, m := range p.Results {
			switch m.Status {
			case StatusPass:
				r.Passed++
			case StatusFail:
				r.Failed++
			case StatusSkip:
				r.Skipped++
			}
		}
	}
}

// Summary is the last line of the text output.
func (r *Report) Summary() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", r.Passed, r.Failed, r.Skipped)
}

// WriteFile writes the report as indented JSON.
func (r *Report) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
