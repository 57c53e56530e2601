package validate

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fromFieldErrors turns apimachinery's field errors into fieldErrors,
// each keeping the API server's own wording ("Invalid value: ...") and its
// field path, split so that a map key holding dots stays one element.
func fromFieldErrors(list field.ErrorList) []fieldError {
	out := make([]fieldError, 0, len(list))
	for _, e := range list {
		out = append(out, fieldError{path: parseFieldPath(e.Field), name: e.Field, msg: e.ErrorBody()})
	}
	return out
}

// parseFieldPath splits a field.Path string, spec.containers[0].env or
// metadata.labels[app.kubernetes.io/name], into its elements.
func parseFieldPath(s string) []string {
	var out []string
	for s != "" {
		switch i := strings.IndexAny(s, ".["); {
		case i < 0:
			return append(out, s)
		case s[i] == '.':
			if i > 0 {
				out = append(out, s[:i])
			}
			s = s[i+1:]
		default:
			if i > 0 {
				out = append(out, s[:i])
			}
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return append(out, s[i+1:])
			}
			out = append(out, s[i+1:i+end])
			s = strings.TrimPrefix(s[i+end+1:], ".")
		}
	}
	return out
}

// msgs turns the messages of a validation.IsX function into errors at p.
func msgs(p *field.Path, v any, list []string) field.ErrorList {
	var errs field.ErrorList
	for _, m := range list {
		errs = append(errs, field.Invalid(p, v, m))
	}
	return errs
}

// enum checks an optional enumerated field (empty: defaulted or unset).
func enum[T ~string](p *field.Path, v T, allowed ...T) field.ErrorList {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	vals := make([]string, len(allowed))
	for i, a := range allowed {
		vals[i] = string(a)
	}
	return field.ErrorList{field.NotSupported(p, v, vals)}
}

// port checks a port number that must be set (1–65535): IsValidPortNum.
func port(p *field.Path, n int32) field.ErrorList {
	return msgs(p, n, validation.IsValidPortNum(int(n)))
}

// portName checks a named port (an IANA service name): IsValidPortName.
func portName(p *field.Path, name string) field.ErrorList {
	return msgs(p, name, validation.IsValidPortName(name))
}

// intOrPort checks a port given by number or by name (a Service's
// targetPort, a probe's port, an Ingress backend's), as
// ValidatePortNumOrName in pkg/apis/core/validation does.
func intOrPort(p *field.Path, v intstr.IntOrString) field.ErrorList {
	if v.Type == intstr.String {
		if v.StrVal == "" {
			return nil
		}
		return portName(p, v.StrVal)
	}
	return port(p, v.IntVal)
}

// nonNegative checks an optional count.
func nonNegative[T int32 | int64](p *field.Path, v *T) field.ErrorList {
	if v != nil && *v < 0 {
		return field.ErrorList{field.Invalid(p, *v, "must be greater than or equal to 0")}
	}
	return nil
}

// unique reports the second and later uses of a name within a list.
type unique struct {
	seen sets.Set[string]
}

func (u *unique) check(p *field.Path, name string) field.ErrorList {
	if u.seen == nil {
		u.seen = sets.New[string]()
	}
	if name == "" {
		return nil
	}
	if u.seen.Has(name) {
		return field.ErrorList{field.Duplicate(p, name)}
	}
	u.seen.Insert(name)
	return nil
}

// intOrPercent checks an int-or-percent value such as a PDB's minAvailable:
// ValidatePositiveIntOrPercent and IsValidPercent in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/apps/validation/validation.go
func intOrPercent(p *field.Path, v *intstr.IntOrString) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.Int {
		return nonNegative(p, &v.IntVal)
	}
	if errs := validation.IsValidPercent(v.StrVal); len(errs) > 0 {
		return msgs(p, v.StrVal, errs)
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	if n > 100 {
		return field.ErrorList{field.Invalid(p, v.StrVal, "must not be greater than 100%")}
	}
	return nil
}

// required reports an empty required value.
func required(p *field.Path, empty bool) field.ErrorList {
	if empty {
		return field.ErrorList{field.Required(p, "")}
	}
	return nil
}
