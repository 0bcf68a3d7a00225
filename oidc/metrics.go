package oidc

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the protocol's Prometheus series.
type metrics struct {
	tokensIssued    *prometheus.CounterVec
	tokenErrors     *prometheus.CounterVec
	signIns         *prometheus.CounterVec
	authorizations  prometheus.Counter
	authorizeErrors *prometheus.CounterVec
	// registrationsThrottled counts registration requests refused by a
	// rate limit, by limit (registration-ip, registration).
	registrationsThrottled *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		tokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_tokens_issued_total", Help: "Token responses issued, by grant type.",
		}, []string{"grant_type"}),
		tokenErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_token_errors_total", Help: "Token endpoint errors, by OAuth error code.",
		}, []string{"error"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_sign_ins_total", Help: "Sign-in attempts, by method and result.",
		}, []string{"method", "result"}),
		authorizations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orgid_authorizations_total", Help: "Successful authorization responses.",
		}),
		authorizeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_authorize_errors_total", Help: "Authorization endpoint errors, by OAuth error code.",
		}, []string{"error"}),
		registrationsThrottled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_registrations_throttled_total", Help: "Dynamic client registrations refused by a rate limit, by limit.",
		}, []string{"limit"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.tokensIssued, m.tokenErrors, m.signIns, m.authorizations, m.authorizeErrors, m.registrationsThrottled} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return nil, err
			}
		}
	}
	return m, nil
}
