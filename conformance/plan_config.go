package conformance

// ConfigPlan is modelled on the OpenID Foundation's
// oidcc-config-certification-test-plan: the discovery document and the JWKS.
func ConfigPlan() Plan {
	return Plan{
		Name:    "config",
		Title:   "oidcc-config-certification-test-plan",
		Modules: []Module{moduleDiscovery(), moduleJWKS()},
	}
}
