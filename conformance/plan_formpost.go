package conformance

// FormPostPlan is modelled on the OpenID Foundation's
// oidcc-formpost-basic-certification-test-plan: the Basic modules with
// response_mode=form_post, every response read from the auto-submitting
// form and delivered to the runner as a POST.
func FormPostPlan() Plan {
	return Plan{
		Name:    "formpost",
		Title:   "oidcc-formpost-basic-certification-test-plan",
		Variant: Variant{ResponseMode: "form_post"},
		Modules: basicModules(),
	}
}
