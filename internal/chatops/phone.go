package chatops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
	"github.com/tandemhq/tandem/internal/twilio"
)

// Twilio webhook paths, under the base URL Twilio is given.
const (
	TwilioSMSPath   = "/api/v1/webhooks/twilio/sms"
	TwilioVoicePath = "/api/v1/webhooks/twilio/voice"
)

var errDailyCap = errors.New("the daily cap on SMS and calls is reached")

// pagePhone delivers a page by SMS or a voice call through Twilio, once
// the number's rate limits and the daily cap allow it: a page over a
// number's limit waits for its place (the job is deferred, no attempt
// spent); one over the daily cap fails, so the person's other contact
// methods carry on.
func (s *Service) pagePhone(ctx context.Context, p incident.Page) error {
	set := s.settings()
	tw := set.Twilio
	if tw.AccountSID == "" {
		return incident.ErrNotHandled
	}
	number := p.Method.Address
	if !twilio.ValidNumber(number) {
		return engine.Permanent(fmt.Errorf("%s address %q is not an E.164 number", p.Method.Type, number))
	}
	limits := tw.SMSLimits
	if p.Method.Type == oncall.ContactVoice {
		limits = tw.VoiceLimits
	}
	wait, err := s.reservePhone(ctx, number, p.Method.Type, p.DeliveryID, limits, tw.DailyCap, s.Clock.Now())
	if errors.Is(err, errDailyCap) {
		s.Log.Warn("twilio: daily cap reached; page not sent", "incident", p.Incident.ID, "person", p.Person, "method", p.Method.Name)
		return &notify.Error{Channel: p.Method.Type, Message: err.Error(), Permanent: true}
	}
	if err != nil {
		return err
	}
	if wait > 0 {
		return &notify.Error{Channel: p.Method.Type, HeldFor: wait,
			Message: fmt.Sprintf("held back by the per-number %s limit: its turn is in %s", p.Method.Type, wait.Round(100*time.Millisecond))}
	}
	cl := s.twilio(set)
	if p.Method.Type == oncall.ContactVoice {
		action := strings.TrimRight(set.BaseURL, "/") + TwilioVoicePath + "?incident=" + strconv.FormatInt(p.Incident.ID, 10)
		_, err = cl.Call(ctx, tw.From, number, twilio.GatherTwiML(voiceText(p.Incident), action))
	} else {
		_, err = cl.SendSMS(ctx, tw.From, number, smsText(p.Incident))
	}
	var te *twilio.Error
	if errors.As(err, &te) && te.Permanent {
		return engine.Permanent(err)
	}
	return err
}

// smsText is a page in one SMS segment where it fits: severity, title,
// service and how to answer.
func smsText(inc incident.Incident) string {
	tail := fmt.Sprintf(" on %s. Reply \"ack %d\" or \"resolve %d\".", strings.Join(inc.Services, ","), inc.ID, inc.ID)
	head := fmt.Sprintf("[%s] #%d ", strings.ToUpper(inc.Severity), inc.ID)
	title := inc.Title
	if room := 160 - len(head) - len(tail); len(title) > room && room > 10 {
		title = truncateUTF8(title, room-1) + "…"
	}
	return head + title + tail
}

func truncateUTF8(s string, n int) string {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:min(n, len(s))]
}

// voiceText is what the call says before waiting for a key.
func voiceText(inc incident.Incident) string {
	return fmt.Sprintf("This is tandem. Severity %s incident %d on %s: %s. Press 1 to acknowledge.",
		strings.TrimPrefix(inc.Severity, "sev"), inc.ID, strings.Join(inc.Services, ", "), inc.Title)
}

// replyPattern is an SMS reply: ack, acknowledge or resolve, and the
// incident number.
var replyPattern = regexp.MustCompile(`(?i)^\s*(ack|acknowledge|resolve)\s+#?([0-9]{1,18})\s*$`)

// ParseReply reads an SMS reply ("ack 12", "resolve #12") into a verb
// (ack or resolve) and an incident number.
func ParseReply(body string) (verb string, id int64, ok bool) {
	m := replyPattern.FindStringSubmatch(body)
	if m == nil {
		return "", 0, false
	}
	id, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil || id <= 0 {
		return "", 0, false
	}
	verb = strings.ToLower(m[1])
	if verb == "acknowledge" {
		verb = "ack"
	}
	return verb, id, true
}

func twimlReply(doc string) Reply {
	return Reply{Status: http.StatusOK, ContentType: "text/xml; charset=utf-8", Body: []byte(doc)}
}

// verifyTwilio checks a webhook: the form, the X-Twilio-Signature over the
// public URL (base URL + pathAndQuery: what Twilio requested, whatever a
// proxy forwarded), and the account.
func (s *Service) verifyTwilio(h http.Header, pathAndQuery string, body []byte) (Settings, twilio.Inbound, error) {
	set := s.settings()
	if set.Twilio.AccountSID == "" || set.Twilio.AuthToken == "" || set.BaseURL == "" {
		return set, twilio.Inbound{}, tandem.Errorf(tandem.EForbidden, "Twilio is not configured (notifications.twilio and incidents.base_url)")
	}
	in, err := twilio.ParseInbound(body)
	if err != nil {
		return set, in, tandem.Errorf(tandem.EInvalid, "%v", err)
	}
	u := strings.TrimRight(set.BaseURL, "/") + pathAndQuery
	if !slices.ContainsFunc(notify.Secrets(set.Twilio.AuthToken), func(tok string) bool {
		return twilio.Verify(tok, u, in.Params, h.Get("X-Twilio-Signature")) == nil
	}) {
		return set, in, tandem.Errorf(tandem.EUnauthorized, "%v", twilio.ErrBadSignature)
	}
	if in.AccountSID != set.Twilio.AccountSID {
		return set, in, tandem.Errorf(tandem.EForbidden, "webhook for another Twilio account")
	}
	return set, in, nil
}

// HandleSMS answers an SMS sent to the Twilio number: "ack 12" or
// "resolve 12" from a number that is one of a person's sms or voice
// contact methods acts as that person. Any other sender changes nothing
// and gets no reply (a reply costs money and tells a stranger the number
// is live).
func (s *Service) HandleSMS(ctx context.Context, h http.Header, pathAndQuery string, body []byte) (Reply, error) {
	_, in, err := s.verifyTwilio(h, pathAndQuery, body)
	if err != nil {
		return Reply{}, err
	}
	dir, err := s.directory(ctx)
	if err != nil {
		return Reply{}, err
	}
	person, ok := personByContact(dir, []string{oncall.ContactSMS, oncall.ContactVoice}, in.From)
	if !ok {
		s.Log.Info("twilio: SMS from a number no person has; nothing changed", "from_suffix", lastDigits(in.From))
		return twimlReply(twilio.MessageTwiML("")), nil
	}
	verb, id, ok := ParseReply(in.Body)
	if !ok {
		return twimlReply(twilio.MessageTwiML(`Reply "ack 12" or "resolve 12" with the incident number.`)), nil
	}
	msg, err := s.act(ctx, verb, id, person+" (sms)")
	if err != nil {
		return Reply{}, err
	}
	if msg == "" {
		msg = fmt.Sprintf("Incident #%d %s.", id, map[string]string{"ack": "acknowledged", "resolve": "resolved"}[verb])
	}
	return twimlReply(twilio.MessageTwiML(msg)), nil
}

// HandleVoice answers the keypress of a page call: 1 acknowledges the
// incident the call was about (named in the signed callback URL), as the
// person whose number was called.
func (s *Service) HandleVoice(ctx context.Context, h http.Header, pathAndQuery string, body []byte) (Reply, error) {
	_, in, err := s.verifyTwilio(h, pathAndQuery, body)
	if err != nil {
		return Reply{}, err
	}
	q := pathAndQuery
	if i := strings.IndexByte(q, '?'); i >= 0 {
		q = q[i+1:]
	} else {
		q = ""
	}
	var id int64
	for _, kv := range strings.Split(q, "&") {
		if v, ok := strings.CutPrefix(kv, "incident="); ok {
			id, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if id <= 0 {
		return Reply{}, tandem.FieldErrorf("incident", "the callback URL names no incident")
	}
	// On a call tandem placed, To is the person's number.
	callee := in.To
	if d := in.Params.Get("Direction"); d == "inbound" {
		callee = in.From
	}
	dir, err := s.directory(ctx)
	if err != nil {
		return Reply{}, err
	}
	person, ok := personByContact(dir, []string{oncall.ContactVoice, oncall.ContactSMS}, callee)
	if !ok {
		s.Log.Info("twilio: keypress on a call to a number no person has; nothing changed", "to_suffix", lastDigits(callee))
		return twimlReply(twilio.SayTwiML("This number is not known to tandem. Nothing was changed. Goodbye.")), nil
	}
	if in.Digits != "1" {
		return twimlReply(twilio.SayTwiML("Nothing was changed. Goodbye.")), nil
	}
	msg, err := s.act(ctx, "ack", id, person+" (voice)")
	if err != nil {
		return Reply{}, err
	}
	if msg == "" {
		msg = fmt.Sprintf("Incident %d acknowledged. Goodbye.", id)
	}
	return twimlReply(twilio.SayTwiML(msg)), nil
}

// lastDigits keeps a number out of the logs but for its last four digits.
func lastDigits(n string) string {
	if len(n) <= 4 {
		return "…"
	}
	return "…" + n[len(n)-4:]
}
