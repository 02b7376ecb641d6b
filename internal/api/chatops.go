package api

import (
	"context"
	"net/http"

	"github.com/tandemhq/tandem/internal/chatops"
)

// ChatopsDeps is what the Slack app, Twilio and Mattermost webhooks need.
type ChatopsDeps struct {
	Service *chatops.Service
}

// chatopsRoutes registers the webhooks of the Slack app, Twilio and
// Mattermost. Each authenticates its sender itself (Slack's signature,
// X-Twilio-Signature, a signed Mattermost context), so none takes a token.
func (s *Server) chatopsRoutes(mux *http.ServeMux) {
	if s.Chatops.Service == nil {
		return
	}
	c := s.Chatops.Service
	s.handle(mux, "POST /api/v1/webhooks/slack/interactions", "", s.chatopsHook(c.HandleInteraction))
	s.handle(mux, "POST /api/v1/webhooks/slack/commands", "", s.chatopsHook(c.HandleCommand))
	s.handle(mux, "POST /api/v1/webhooks/slack/events", "", s.chatopsHook(c.HandleEvents))
	s.handle(mux, "POST /api/v1/webhooks/twilio/sms", "", s.twilioHook(c.HandleSMS))
	s.handle(mux, "POST /api/v1/webhooks/twilio/voice", "", s.twilioHook(c.HandleVoice))
	s.handle(mux, "POST /api/v1/webhooks/mattermost/actions", "", func(w http.ResponseWriter, r *http.Request) error {
		b, err := ReadBody(r)
		if err != nil {
			return err
		}
		rep, err := c.HandleMattermostAction(r.Context(), b)
		if err != nil {
			return err
		}
		writeReply(w, rep)
		return nil
	})
}

func (s *Server) chatopsHook(h func(ctx context.Context, hdr http.Header, body []byte) (chatops.Reply, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		b, err := ReadBody(r)
		if err != nil {
			return err
		}
		rep, err := h(r.Context(), r.Header, b)
		if err != nil {
			return err
		}
		writeReply(w, rep)
		return nil
	}
}

// twilioHook passes the path and query Twilio requested: with the
// configured base URL they make the URL Twilio signed.
func (s *Server) twilioHook(h func(ctx context.Context, hdr http.Header, pathAndQuery string, body []byte) (chatops.Reply, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		b, err := ReadBody(r)
		if err != nil {
			return err
		}
		rep, err := h(r.Context(), r.Header, r.URL.RequestURI(), b)
		if err != nil {
			return err
		}
		writeReply(w, rep)
		return nil
	}
}

func writeReply(w http.ResponseWriter, rep chatops.Reply) {
	if rep.ContentType != "" {
		w.Header().Set("Content-Type", rep.ContentType)
	}
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	w.WriteHeader(rep.Status)
	_, _ = w.Write(rep.Body)
}
