package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Plan is a named list of modules run with one variant, like an OpenID
// Foundation test plan.
type Plan struct {
	// Name is the short name used on the command line ("basic").
	Name string
	// Title is the OpenID Foundation plan this plan is modelled on.
	Title string
	// Variant applies to every module of the plan (form_post, for example).
	Variant Variant
	// Setup, if set, runs before the first module with the plan's Env (a
	// dynamic-registration plan registers its clients here). An error fails
	// every module of the plan.
	Setup func(ctx context.Context, env *Env) error
	// Teardown, if set, runs after the last module.
	Teardown func(ctx context.Context, env *Env)
	Modules  []Module
}

// Variant is what a plan changes in every module's requests.
type Variant struct {
	// ResponseMode is sent as response_mode when not empty ("form_post").
	ResponseMode string
}

// Module checks one behaviour of the provider.
type Module struct {
	// Name is the OpenID Foundation test name where there is one
	// ("oidcc-server").
	Name        string
	Description string
	Run         func(ctx context.Context, env *Env) Result
}

// module builds a Module from a function that records into a T.
func module(name, description string, run func(t *T)) Module {
	return Module{Name: name, Description: description, Run: func(ctx context.Context, env *Env) Result {
		t := NewT(ctx, env)
		run(t)
		return t.Result()
	}}
}

// Plans returns every plan the runner knows, in the order "all" runs them.
// A new plan is a new file with its builder, and one line here.
func Plans() []Plan {
	return []Plan{ConfigPlan(), BasicPlan(), FormPostPlan(), DynamicPlan(), RPLogoutPlan(), FrontchannelLogoutPlan(), BackchannelLogoutPlan()}
}

// SelectPlans picks plans by short name from a comma-separated list;
// "all" selects every plan.
func SelectPlans(all []Plan, names string) ([]Plan, error) {
	var out []Plan
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if n == "all" {
			return all, nil
		}
		i := slices.IndexFunc(all, func(p Plan) bool { return p.Name == n || p.Title == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown plan %q (want %s or all)", n, strings.Join(planNames(all), ", "))
		}
		out = append(out, all[i])
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no plan given (want %s or all)", strings.Join(planNames(all), ", "))
	}
	return out, nil
}

func planNames(plans []Plan) []string {
	names := make([]string, len(plans))
	for i, p := range plans {
		names[i] = p.Name
	}
	return names
}
