package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/orgid/orgid/webhook"
)

// webhooksCommands are the `orgid webhooks …` subcommands: the endpoints
// receiving webhook events, their deliveries, and replays.
var webhooksCommands = []command{
	{"webhooks create", "add a webhook endpoint: --url U [--events T...] [--description D] (prints id and secret)", runWebhooksCreate},
	{"webhooks list", "list webhook endpoints", runWebhooksList},
	{"webhooks get", "show a webhook endpoint: ID [--show-secret]", runWebhooksGet},
	{"webhooks update", "change a webhook endpoint: ID [--url] [--events] [--enabled=true|false] [--description]", runWebhooksUpdate},
	{"webhooks delete", "delete a webhook endpoint and its delivery log: ID", runWebhooksDelete},
	{"webhooks rotate-secret", "give an endpoint a new secret; the old one also signs for 24 h: ID", runWebhooksRotateSecret},
	{"webhooks deliveries", "list an endpoint's deliveries with their attempts: ENDPOINT_ID [--limit N]", runWebhooksDeliveries},
	{"webhooks replay", "send a message again: MESSAGE_ID, or --endpoint E --failed-since T (RFC 3339)", runWebhooksReplay},
}

func runWebhooksCreate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	url := f.String("url", "", "receiver URL, https:// (required)")
	description := f.String("description", "", "what the endpoint is for")
	events := listFlag{split: true}
	f.Var(&events, "events", "event type to send, e.g. user.created (repeatable or comma-separated; default all)")
	if _, err := webhookParse(f, 0); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("--url is required")
	}
	return withWebhooks(ctx, f, func(svc *webhook.Service) error {
		ep, err := svc.Create(ctx, webhook.CreateParams{URL: *url, Description: *description, EventTypes: events.values})
		if err != nil {
			return err
		}
		return f.output(ep.JSON(), "id: "+ep.ID, "secret: "+ep.Secret,
			"(verify deliveries with this secret; `orgid webhooks get ID --show-secret` shows it again)")
	})
}

func runWebhooksList(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	if _, err := webhookParse(f, 0); err != nil {
		return err
	}
	return withWebhooks(ctx, f, func(svc *webhook.Service) error {
		list, err := svc.List(ctx)
		if err != nil {
			return err
		}
		out := make([]webhook.EndpointJSON, 0, len(list))
		lines := []string{}
		for _, ep := range list {
			out = append(out, ep.JSON())
			lines = append(lines, endpointLine(ep))
		}
		return f.output(out, lines...)
	})
}

func runWebhooksGet(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	showSecret := f.Bool("show-secret", false, "include the signing secret")
	args, err := webhookParse(f, 1)
	if err != nil {
		return err
	}
	return withWebhooks(ctx, f, func(svc *webhook.Service) error {
		get := svc.Get
		if *showSecret {
			get = svc.GetWithSecret
		}
		ep, err := get(ctx, args[0])
		if err != nil {
			return err
		}
		return f.output(ep.JSON(), endpointText(ep)...)
	})
}

func runWebhooksUpdate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	url := f.String("url", "", "new receiver URL")
	description := f.String("description", "", "new description")
	enabled := f.Bool("enabled", true, "enable (true) or disable (false) the endpoint; enabling clears its failure record")
	events := listFlag{split: true}
	f.Var(&events, "events", "event types to send (repeatable or comma-separated; --events '' for all)")
	args, err := webhookParse(f, 1)
	if err != nil {
		return err
	}
	var p webhook.UpdateParams
	f.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "url":
			p.URL = url
		case "description":
			p.Description = description
		case "enabled":
			p.Enabled = enabled
		case "events":
			types := append([]string{}, events.values...)
			p.EventTypes = &types
		}
	})
	return withWebhooks(ctx, f, func(svc *webhook.Service) error {
		ep, err := svc.Update(ctx, args[0], p)
		if err != nil {
			return err
		}
		return f.output(ep.JSON(), endpointText(ep)...)
	})
}

func runWebhooksDelete(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	args, err := webhookParse(f, 1)
	if err != nil {
		return err
	}
	return withWebhooks(ctx, f, func(svc *webhook.Service) error {
		if err := svc.Delete(ctx, args[0]); err != nil {
			return err
		}
		return f.output(map[string]any{"object": "webhook_endpoint", "id": args[0], "deleted": true}, "deleted "+args[0])
	})
}

func runWebhooksRotateSecret(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	args, err := webhookParse(f, 1)
	if err != nil {
		return err
	}
	return withWebhooks(ctx, f, func(svc *webhook.Service) error {
		ep, err := svc.RotateSecret(ctx, args[0])
		if err != nil {
			return err
		}
		return f.output(ep.JSON(), "id: "+ep.ID, "secret: "+ep.Secret,
			"previous secret signs too until: "+since(ep.PreviousSecretExpiresAt))
	})
}

func runWebhooksDeliveries(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	limit := f.Int("limit", webhook.DefaultDeliveriesLimit, "newest deliveries to show")
	args, err := webhookParse(f, 1)
	if err != nil {
		return err
	}
	return withWebhooks(ctx, f, func(svc *webhook.Service) error {
		ds, err := svc.Deliveries(ctx, args[0], *limit)
		if err != nil {
			return err
		}
		out := make([]webhook.DeliveryJSON, 0, len(ds))
		lines := []string{}
		if len(ds) == 0 {
			lines = append(lines, "no deliveries")
		}
		for _, d := range ds {
			out = append(out, d.JSON())
			next := ""
			if !d.NextAttemptAt.IsZero() {
				next = "\tnext " + since(d.NextAttemptAt)
			}
			lines = append(lines, fmt.Sprintf("%s\t%s\t%s\t%s\t%d attempts%s", d.MessageID, d.EventType, d.Status, since(d.CreatedAt), d.Attempts, next))
			for _, a := range d.AttemptLog {
				code := "-"
				if a.StatusCode != 0 {
					code = fmt.Sprint(a.StatusCode)
				}
				line := fmt.Sprintf("    #%d\t%s\t%s\t%s\t%dms", a.Attempt, since(a.StartedAt), code, a.Result, a.Duration.Milliseconds())
				if a.Error != "" {
					line += "\t" + a.Error
				}
				lines = append(lines, line)
			}
		}
		return f.output(out, lines...)
	})
}

func runWebhooksReplay(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	endpoint := f.String("endpoint", "", "with --failed-since: the endpoint whose failed deliveries to send again")
	failedSince := f.String("failed-since", "", "with --endpoint: replay failed deliveries of messages created at or after this time (RFC 3339)")
	args, err := webhookParse(f, -1)
	if err != nil {
		return err
	}
	bulk := *endpoint != "" || *failedSince != ""
	switch {
	case bulk && (len(args) != 0 || *endpoint == "" || *failedSince == ""):
		return errors.New("usage: orgid webhooks replay MESSAGE_ID, or --endpoint E --failed-since T")
	case !bulk && len(args) != 1:
		return errors.New("usage: orgid webhooks replay MESSAGE_ID, or --endpoint E --failed-since T")
	}
	var t time.Time
	if bulk {
		if t, err = time.Parse(time.RFC3339, *failedSince); err != nil {
			return fmt.Errorf("--failed-since %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", *failedSince)
		}
	}
	return withWebhooks(ctx, f, func(svc *webhook.Service) error {
		var n int
		var err error
		if bulk {
			n, err = svc.ReplayFailedSince(ctx, *endpoint, t)
		} else {
			n, err = svc.Replay(ctx, args[0])
		}
		if err != nil {
			return err
		}
		return f.output(map[string]any{"object": "webhook_replay", "queued": n}, fmt.Sprintf("queued %d deliveries", n))
	})
}

// withWebhooks opens the configured database and runs fn with the service.
func withWebhooks(ctx context.Context, f *flags, fn func(svc *webhook.Service) error) error {
	base, svc, err := f.openServices(ctx)
	if err != nil {
		return err
	}
	defer base.Close()
	return fn(svc.Webhooks)
}

// webhookParse parses flags that may come before or after the positional
// arguments (`webhooks get ID --json` as well as `webhooks get --json ID`)
// and checks their number; want < 0 accepts any.
func webhookParse(f *flags, want int) ([]string, error) {
	var flagArgs, positional []string
	args := f.inv.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flagArgs = append(flagArgs, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		fl := f.Lookup(name)
		if fl == nil {
			continue
		}
		if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flagArgs = append(flagArgs, args[i])
		}
	}
	f.inv.args = flagArgs
	if err := f.parse(); err != nil {
		return nil, err
	}
	if want >= 0 && len(positional) != want {
		if want == 0 {
			return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(positional, " "))
		}
		return nil, fmt.Errorf("usage: orgid %s ID (got %d arguments)", f.inv.name, len(positional))
	}
	return positional, nil
}

func endpointLine(ep *webhook.Endpoint) string {
	state := "enabled"
	if !ep.Enabled {
		state = "disabled (" + ep.DisabledReason + ")"
	}
	events := "all events"
	if len(ep.EventTypes) > 0 {
		events = strings.Join(ep.EventTypes, ",")
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s", ep.ID, state, ep.URL, events)
}

func endpointText(ep *webhook.Endpoint) []string {
	lines := []string{endpointLine(ep)}
	if ep.Description != "" {
		lines = append(lines, "description: "+ep.Description)
	}
	if !ep.FailingSince.IsZero() {
		lines = append(lines, "failing since: "+since(ep.FailingSince))
	}
	if ep.Secret != "" {
		lines = append(lines, "secret: "+ep.Secret)
	}
	return lines
}
