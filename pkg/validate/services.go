package validate

import (
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// checkService follows ValidateService and validateServicePort in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/core/validation/validation.go
// (the NodePort range is the server's flag: only it can check that).
func checkService(s *corev1.Service) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	errs = append(errs, enum(p.Child("type"), s.Spec.Type, corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName)...)
	headless := s.Spec.ClusterIP == corev1.ClusterIPNone
	if len(s.Spec.Ports) == 0 && !headless && s.Spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(p.Child("ports"), ""))
	}
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		errs = append(errs, required(p.Child("externalName"), s.Spec.ExternalName == "")...)
	}
	var names unique
	for i, sp := range s.Spec.Ports {
		pp := p.Child("ports").Index(i)
		if sp.Name == "" && len(s.Spec.Ports) > 1 {
			errs = append(errs, field.Required(pp.Child("name"), ""))
		} else if sp.Name != "" {
			errs = append(errs, msgs(pp.Child("name"), sp.Name, validation.IsDNS1123Label(sp.Name))...)
			errs = append(errs, names.check(pp.Child("name"), sp.Name)...)
		}
		errs = append(errs, port(pp.Child("port"), sp.Port)...)
		errs = append(errs, enum(pp.Child("protocol"), sp.Protocol, corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)...)
		if sp.TargetPort != (intstr.IntOrString{}) {
			errs = append(errs, intOrPort(pp.Child("targetPort"), sp.TargetPort)...)
		}
		if sp.NodePort != 0 {
			errs = append(errs, port(pp.Child("nodePort"), sp.NodePort)...)
			if s.Spec.Type != corev1.ServiceTypeNodePort && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
				errs = append(errs, field.Forbidden(pp.Child("nodePort"), "may not be used when `type` is '"+string(orClusterIP(s.Spec.Type))+"'"))
			}
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(s.Spec.Selector, p.Child("selector"))...)
	if ip := s.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone && net.ParseIP(ip) == nil {
		errs = append(errs, field.Invalid(p.Child("clusterIP"), ip, "must be empty, 'None', or a valid IP address"))
	}
	errs = append(errs, enum(p.Child("sessionAffinity"), s.Spec.SessionAffinity, corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone)...)
	return append(errs, singleStack(s, p)...)
}

// singleStack: kcloud installs K3s with its default single-stack IPv4
// cluster and service CIDRs (the Cluster has no setting for others:
// https://docs.k3s.io/networking/basic-network-options#dual-stack-ipv4--ipv6-networking),
// so the API server refuses a Service that needs IPv6 ("not configured on
// this cluster").
func singleStack(s *corev1.Service, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Spec.IPFamilyPolicy != nil && *s.Spec.IPFamilyPolicy == corev1.IPFamilyPolicyRequireDualStack {
		errs = append(errs, field.Invalid(p.Child("ipFamilyPolicy"), *s.Spec.IPFamilyPolicy, "this cluster is not configured for dual-stack services (K3s's default single-stack IPv4)"))
	}
	for i, f := range s.Spec.IPFamilies {
		if f == corev1.IPv6Protocol {
			errs = append(errs, field.Invalid(p.Child("ipFamilies").Index(i), f, "not configured on this cluster (K3s's default single-stack IPv4)"))
		}
	}
	return errs
}

func orClusterIP(t corev1.ServiceType) corev1.ServiceType {
	if t == "" {
		return corev1.ServiceTypeClusterIP
	}
	return t
}

// checkIngress follows ValidateIngressSpec, validateIngressRules,
// validateHTTPIngressPath and validateIngressBackend in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/networking/validation/validation.go
func checkIngress(ing *networkingv1.Ingress) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	if ing.Spec.DefaultBackend != nil {
		errs = append(errs, checkBackend(ing.Spec.DefaultBackend, p.Child("defaultBackend"))...)
	} else if len(ing.Spec.Rules) == 0 {
		errs = append(errs, field.Invalid(p.Child("rules"), ing.Spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	for i, r := range ing.Spec.Rules {
		rp := p.Child("rules").Index(i)
		if r.Host != "" {
			errs = append(errs, ingressHost(rp.Child("host"), r.Host)...)
		}
		if r.HTTP == nil {
			continue
		}
		errs = append(errs, required(rp.Child("http", "paths"), len(r.HTTP.Paths) == 0)...)
		for j, hp := range r.HTTP.Paths {
			errs = append(errs, checkIngressPath(hp, rp.Child("http", "paths").Index(j))...)
		}
	}
	if c := ing.Spec.IngressClassName; c != nil {
		errs = append(errs, msgs(p.Child("ingressClassName"), *c, validation.IsDNS1123Subdomain(*c))...)
	}
	return errs
}

// ingressHost: a DNS subdomain, a leading "*." wildcard allowed, never an
// IP address.
func ingressHost(p *field.Path, host string) field.ErrorList {
	if net.ParseIP(host) != nil {
		return field.ErrorList{field.Invalid(p, host, "must be a DNS name, not an IP address")}
	}
	if strings.Contains(host, "*") {
		return msgs(p, host, validation.IsWildcardDNS1123Subdomain(host))
	}
	return msgs(p, host, validation.IsDNS1123Subdomain(host))
}

func checkIngressPath(hp networkingv1.HTTPIngressPath, p *field.Path) field.ErrorList {
	if hp.PathType == nil {
		return field.ErrorList{field.Required(p.Child("pathType"), "pathType must be specified")}
	}
	var errs field.ErrorList
	switch *hp.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(p.Child("path"), hp.Path, "must be an absolute path"))
		}
	case networkingv1.PathTypeImplementationSpecific:
		if hp.Path != "" && !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(p.Child("path"), hp.Path, "must be an absolute path"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("pathType"), *hp.PathType, []string{"Exact", "ImplementationSpecific", "Prefix"}))
	}
	return append(errs, checkBackend(&hp.Backend, p.Child("backend"))...)
}

func checkBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	switch {
	case b.Resource != nil && b.Service != nil:
		return field.ErrorList{field.Invalid(p, "", "cannot set both resource and service backends")}
	case b.Resource != nil:
		return nil
	case b.Service == nil:
		return field.ErrorList{field.Invalid(p, "", "resource or service backend is required")}
	}
	s := b.Service
	errs := required(p.Child("service", "name"), s.Name == "")
	if s.Name != "" {
		// NameIsDNSLabel: RelaxedServiceNameValidation is on in v1.37.
		errs = append(errs, msgs(p.Child("service", "name"), s.Name, validation.IsDNS1123Label(s.Name))...)
	}
	switch {
	case s.Port.Name != "" && s.Port.Number != 0:
		errs = append(errs, field.Invalid(p, "", "cannot set both port name & port number"))
	case s.Port.Name != "":
		errs = append(errs, portName(p.Child("service", "port", "name"), s.Port.Name)...)
	case s.Port.Number != 0:
		errs = append(errs, port(p.Child("service", "port", "number"), s.Port.Number)...)
	default:
		errs = append(errs, field.Required(p, "port name or number is required"))
	}
	return errs
}

// checkNetworkPolicy follows ValidateNetworkPolicySpec,
// ValidateNetworkPolicyPort, ValidateNetworkPolicyPeer and ValidateIPBlock
// in the same file.
func checkNetworkPolicy(np *networkingv1.NetworkPolicy) field.ErrorList {
	p := field.NewPath("spec")
	errs := metav1validation.ValidateLabelSelector(&np.Spec.PodSelector, metav1validation.LabelSelectorValidationOptions{}, p.Child("podSelector"))
	for i, r := range np.Spec.Ingress {
		rp := p.Child("ingress").Index(i)
		errs = append(errs, checkNPPorts(r.Ports, rp.Child("ports"))...)
		errs = append(errs, checkNPPeers(r.From, rp.Child("from"))...)
	}
	for i, r := range np.Spec.Egress {
		rp := p.Child("egress").Index(i)
		errs = append(errs, checkNPPorts(r.Ports, rp.Child("ports"))...)
		errs = append(errs, checkNPPeers(r.To, rp.Child("to"))...)
	}
	for i, t := range np.Spec.PolicyTypes {
		errs = append(errs, enum(p.Child("policyTypes").Index(i), t, networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)...)
	}
	return errs
}

func checkNPPorts(ports []networkingv1.NetworkPolicyPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, np := range ports {
		pp := p.Index(i)
		if np.Protocol != nil {
			errs = append(errs, enum(pp.Child("protocol"), *np.Protocol, corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)...)
		}
		if np.Port != nil {
			errs = append(errs, intOrPort(pp.Child("port"), *np.Port)...)
		}
		if np.EndPort != nil {
			switch {
			case np.Port == nil || np.Port.Type == intstr.String:
				errs = append(errs, field.Forbidden(pp.Child("endPort"), "may not be specified when `port` is not a number"))
			case *np.EndPort < np.Port.IntVal:
				errs = append(errs, field.Invalid(pp.Child("endPort"), *np.EndPort, "must be greater than or equal to `port`"))
			}
		}
	}
	return errs
}

func checkNPPeers(peers []networkingv1.NetworkPolicyPeer, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	opts := metav1validation.LabelSelectorValidationOptions{}
	for i, peer := range peers {
		pp := p.Index(i)
		n := 0
		if peer.PodSelector != nil {
			n++
			errs = append(errs, metav1validation.ValidateLabelSelector(peer.PodSelector, opts, pp.Child("podSelector"))...)
		}
		if peer.NamespaceSelector != nil {
			n++
			errs = append(errs, metav1validation.ValidateLabelSelector(peer.NamespaceSelector, opts, pp.Child("namespaceSelector"))...)
		}
		if b := peer.IPBlock; b != nil {
			if n > 0 {
				errs = append(errs, field.Forbidden(pp, "may not specify both ipBlock and another peer"))
			}
			n++
			errs = append(errs, checkIPBlock(b, pp.Child("ipBlock"))...)
		}
		if n == 0 {
			errs = append(errs, field.Required(pp, "must specify a peer"))
		}
	}
	return errs
}

func checkIPBlock(b *networkingv1.IPBlock, p *field.Path) field.ErrorList {
	_, cidr, err := net.ParseCIDR(b.CIDR)
	if err != nil {
		return field.ErrorList{field.Invalid(p.Child("cidr"), b.CIDR, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")}
	}
	var errs field.ErrorList
	for i, e := range b.Except {
		ip, ex, err := net.ParseCIDR(e)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(p.Child("except").Index(i), e, "must be a valid CIDR value"))
		case !cidr.Contains(ip) || sizeOf(ex) <= sizeOf(cidr):
			errs = append(errs, field.Invalid(p.Child("except").Index(i), e, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

func sizeOf(n *net.IPNet) int { ones, _ := n.Mask.Size(); return ones }
