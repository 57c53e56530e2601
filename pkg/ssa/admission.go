package ssa

import (
	"context"
	"fmt"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// Admission is what may mutate an object on update besides the merge: the
// cluster's mutating webhooks and mutating admission policies, by the
// rules they match requests with. A nil *Admission mutates nothing.
type Admission struct {
	rules []admissionRule
	// unknown is set when the configurations could not be read: then
	// anything may be mutated.
	unknown string
}

type admissionRule struct {
	name string
	rule admissionv1.RuleWithOperations
}

// ReadAdmission reads the cluster's mutating webhook configurations and
// mutating admission policies (the first version of those served). When
// they cannot be read, the Admission says every object may be mutated.
func ReadAdmission(ctx context.Context, c kubernetes.Interface) *Admission {
	a := &Admission{}
	hooks, err := c.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		a.unknown = fmt.Sprintf("the mutating webhook configurations cannot be read (%v): admission may change anything", err)
		return a
	}
	for _, h := range hooks.Items {
		for _, w := range h.Webhooks {
			for _, r := range w.Rules {
				a.rules = append(a.rules, admissionRule{name: "mutating webhook configuration " + h.Name, rule: r})
			}
		}
	}
	policies, err := mutatingPolicies(ctx, c)
	if err != nil {
		a.unknown = fmt.Sprintf("the mutating admission policies cannot be read (%v): admission may change anything", err)
		return a
	}
	a.rules = append(a.rules, policies...)
	return a
}

// mutatingPolicies lists MutatingAdmissionPolicies in the first of v1,
// v1beta1 and v1alpha1 that the cluster serves; none when none is.
func mutatingPolicies(ctx context.Context, c kubernetes.Interface) ([]admissionRule, error) {
	var out []admissionRule
	add := func(name string, rules []admissionv1.NamedRuleWithOperations) {
		for _, r := range rules {
			out = append(out, admissionRule{name: "mutating admission policy " + name, rule: r.RuleWithOperations})
		}
	}
	v1, err := c.AdmissionregistrationV1().MutatingAdmissionPolicies().List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, p := range v1.Items {
			if p.Spec.MatchConstraints != nil {
				add(p.Name, p.Spec.MatchConstraints.ResourceRules)
			} else {
				out = append(out, admissionRule{name: "mutating admission policy " + p.Name, rule: anything})
			}
		}
		return out, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	// Older servers serve the policies only in beta or alpha, if at all:
	// any policy there makes everything doubtful.
	if l, err := c.AdmissionregistrationV1beta1().MutatingAdmissionPolicies().List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range l.Items {
			out = append(out, admissionRule{name: "mutating admission policy " + p.Name, rule: anything})
		}
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	if l, err := c.AdmissionregistrationV1alpha1().MutatingAdmissionPolicies().List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range l.Items {
			out = append(out, admissionRule{name: "mutating admission policy " + p.Name, rule: anything})
		}
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	return out, nil
}

var anything = admissionv1.RuleWithOperations{
	Operations: []admissionv1.OperationType{admissionv1.OperationAll},
	Rule:       admissionv1.Rule{APIGroups: []string{"*"}, Resources: []string{"*"}},
}

// Mutates says what may mutate an update of resource, or "" when nothing
// does. Selectors and scopes are not looked at: a rule that could match
// counts.
func (a *Admission) Mutates(resource schema.GroupResource) string {
	if a == nil {
		return ""
	}
	if a.unknown != "" {
		return a.unknown
	}
	for _, r := range a.rules {
		if matches(r.rule, resource) {
			return r.name + " may change it"
		}
	}
	return ""
}

func matches(r admissionv1.RuleWithOperations, resource schema.GroupResource) bool {
	if !slices.Contains(r.Operations, admissionv1.Update) && !slices.Contains(r.Operations, admissionv1.OperationAll) {
		return false
	}
	if !slices.Contains(r.APIGroups, resource.Group) && !slices.Contains(r.APIGroups, "*") {
		return false
	}
	return slices.ContainsFunc(r.Resources, func(s string) bool {
		main, sub, _ := strings.Cut(s, "/")
		return (main == "*" || main == resource.Resource) && (sub == "" || sub == "*")
	})
}
