package kube

import (
	"fmt"
	"strings"

	"github.com/go-logr/logr"
	"github.com/rs/zerolog"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// RouteKlog sends what client-go and cli-utils log through klog to log at
// debug level, after mask (nil keeps messages as they are). Without it klog
// writes its own lines to stderr, around kcloud's.
func RouteKlog(log zerolog.Logger, mask func(string) string) {
	if mask == nil {
		mask = func(s string) string { return s }
	}
	klog.SetLogger(logr.New(&klogSink{log: log, mask: mask}))
}

// klogSink is a logr.LogSink writing to zerolog.
type klogSink struct {
	log    zerolog.Logger
	mask   func(string) string
	name   string
	values []any
}

var _ logr.LogSink = (*klogSink)(nil)

func (s *klogSink) Init(logr.RuntimeInfo) {}

func (s *klogSink) Enabled(level int) bool {
	return s.log.GetLevel() <= zerolog.DebugLevel && level <= 2
}

func (s *klogSink) Info(level int, msg string, kv ...any) {
	s.emit(s.log.Debug().Int("v", level), msg, kv)
}

func (s *klogSink) Error(err error, msg string, kv ...any) {
	e := s.log.Debug()
	if err != nil {
		e = e.Str("error", s.mask(err.Error()))
	}
	s.emit(e, msg, kv)
}

func (s *klogSink) emit(e *zerolog.Event, msg string, kv []any) {
	if s.name != "" {
		e = e.Str("logger", s.name)
	}
	all := append(append([]any(nil), s.values...), kv...)
	for i := 0; i+1 < len(all); i += 2 {
		e = e.Str(fmt.Sprint(all[i]), s.mask(fmt.Sprint(all[i+1])))
	}
	e.Str("source", "klog").Msg(s.mask(strings.TrimSpace(msg)))
}

func (s *klogSink) WithValues(kv ...any) logr.LogSink {
	c := *s
	c.values = append(append([]any(nil), s.values...), kv...)
	return &c
}

func (s *klogSink) WithName(name string) logr.LogSink {
	c := *s
	if c.name != "" {
		name = c.name + "/" + name
	}
	c.name = name
	return &c
}

// WarningLogger turns the API server's warnings (deprecations, unknown
// fields) into zerolog warnings, after mask.
func WarningLogger(log zerolog.Logger, mask func(string) string) rest.WarningHandler {
	if mask == nil {
		mask = func(s string) string { return s }
	}
	return warningFunc(func(text string) { log.Warn().Str("source", "apiserver").Msg(mask(text)) })
}

type warningFunc func(text string)

var _ rest.WarningHandler = warningFunc(nil)

func (f warningFunc) HandleWarningHeader(code int, _ string, text string) {
	if code == 299 && text != "" {
		f(text)
	}
}
