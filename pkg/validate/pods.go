package validate

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The pod rules follow ValidatePodSpec and the functions it calls in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/core/validation/validation.go
// (validateContainers, validateContainerCommon, validateContainerPorts,
// ValidateEnv, ValidateVolumes, ValidateVolumeMounts, validateProbe,
// ValidateResourceRequirements, validateRestartPolicy, validateDNSPolicy,
// ValidateTolerations), on the values the server sees before defaulting
// fills what they leave out.

// checkPodTemplate checks a workload's pod template: its labels and its
// spec, with the restart policies the workload allows ("" allows all).
func checkPodTemplate(t *corev1.PodTemplateSpec, p *field.Path, restart ...corev1.RestartPolicy) field.ErrorList {
	errs := metav1validation.ValidateLabels(t.Labels, p.Child("metadata", "labels"))
	errs = append(errs, checkPodSpec(&t.Spec, p.Child("spec"))...)
	if len(restart) > 0 {
		rp := t.Spec.RestartPolicy
		if rp == "" {
			rp = corev1.RestartPolicyAlways // the default (SetDefaults_PodSpec)
		}
		errs = append(errs, enum(p.Child("spec", "restartPolicy"), rp, restart...)...)
	}
	return errs
}

// checkPodSpec checks a pod's spec.
func checkPodSpec(s *corev1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	vols := sets.New[string]()
	var volNames unique
	for i, v := range s.Volumes {
		vp := p.Child("volumes").Index(i)
		errs = append(errs, required(vp.Child("name"), v.Name == "")...)
		if v.Name != "" {
			errs = append(errs, msgs(vp.Child("name"), v.Name, validation.IsDNS1123Label(v.Name))...)
		}
		errs = append(errs, volNames.check(vp.Child("name"), v.Name)...)
		if n := volumeSources(v.VolumeSource); n > 1 {
			errs = append(errs, field.Forbidden(vp, "may not specify more than 1 volume type"))
		}
		vols.Insert(v.Name)
	}
	errs = append(errs, required(p.Child("containers"), len(s.Containers) == 0)...)
	var names unique
	for i := range s.InitContainers {
		errs = append(errs, checkContainer(&s.InitContainers[i], p.Child("initContainers").Index(i), vols, &names)...)
	}
	for i := range s.Containers {
		errs = append(errs, checkContainer(&s.Containers[i], p.Child("containers").Index(i), vols, &names)...)
	}
	errs = append(errs, enum(p.Child("restartPolicy"), s.RestartPolicy, corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)...)
	errs = append(errs, enum(p.Child("dnsPolicy"), s.DNSPolicy, corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone)...)
	errs = append(errs, metav1validation.ValidateLabels(s.NodeSelector, p.Child("nodeSelector"))...)
	if s.ServiceAccountName != "" {
		errs = append(errs, msgs(p.Child("serviceAccountName"), s.ServiceAccountName, validation.IsDNS1123Subdomain(s.ServiceAccountName))...)
	}
	if s.Hostname != "" {
		errs = append(errs, msgs(p.Child("hostname"), s.Hostname, validation.IsDNS1123Label(s.Hostname))...)
	}
	if s.Subdomain != "" {
		errs = append(errs, msgs(p.Child("subdomain"), s.Subdomain, validation.IsDNS1123Label(s.Subdomain))...)
	}
	errs = append(errs, nonNegative(p.Child("terminationGracePeriodSeconds"), s.TerminationGracePeriodSeconds)...)
	for i, t := range s.Tolerations {
		errs = append(errs, checkToleration(t, p.Child("tolerations").Index(i))...)
	}
	return errs
}

// volumeSources counts the sources a volume names; none is defaulted to
// an emptyDir (SetDefaults_Volume).
func volumeSources(v corev1.VolumeSource) int {
	n := 0
	for _, set := range []bool{v.HostPath != nil, v.EmptyDir != nil, v.GCEPersistentDisk != nil, v.AWSElasticBlockStore != nil,
		v.GitRepo != nil, v.Secret != nil, v.NFS != nil, v.ISCSI != nil, v.Glusterfs != nil, v.PersistentVolumeClaim != nil,
		v.RBD != nil, v.FlexVolume != nil, v.Cinder != nil, v.CephFS != nil, v.Flocker != nil, v.DownwardAPI != nil, v.FC != nil,
		v.AzureFile != nil, v.ConfigMap != nil, v.VsphereVolume != nil, v.Quobyte != nil, v.AzureDisk != nil, v.PhotonPersistentDisk != nil,
		v.Projected != nil, v.PortworxVolume != nil, v.ScaleIO != nil, v.StorageOS != nil, v.CSI != nil, v.Ephemeral != nil, v.Image != nil} {
		if set {
			n++
		}
	}
	return n
}

// checkContainer checks one container; names are unique across init and
// regular containers.
func checkContainer(c *corev1.Container, p *field.Path, vols sets.Set[string], names *unique) field.ErrorList {
	errs := required(p.Child("name"), c.Name == "")
	if c.Name != "" {
		errs = append(errs, msgs(p.Child("name"), c.Name, validation.IsDNS1123Label(c.Name))...)
	}
	errs = append(errs, names.check(p.Child("name"), c.Name)...)
	errs = append(errs, required(p.Child("image"), c.Image == "")...)
	errs = append(errs, enum(p.Child("imagePullPolicy"), c.ImagePullPolicy, corev1.PullAlways, corev1.PullNever, corev1.PullIfNotPresent)...)
	var portNames unique
	for i, cp := range c.Ports {
		pp := p.Child("ports").Index(i)
		errs = append(errs, port(pp.Child("containerPort"), cp.ContainerPort)...)
		if cp.HostPort != 0 {
			errs = append(errs, port(pp.Child("hostPort"), cp.HostPort)...)
		}
		if cp.Name != "" {
			errs = append(errs, portName(pp.Child("name"), cp.Name)...)
			errs = append(errs, portNames.check(pp.Child("name"), cp.Name)...)
		}
		errs = append(errs, enum(pp.Child("protocol"), cp.Protocol, corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)...)
	}
	for i, e := range c.Env {
		ep := p.Child("env").Index(i)
		errs = append(errs, required(ep.Child("name"), e.Name == "")...)
		if e.Name != "" {
			errs = append(errs, msgs(ep.Child("name"), e.Name, validation.IsRelaxedEnvVarName(e.Name))...)
		}
		if e.ValueFrom != nil && e.Value != "" {
			errs = append(errs, field.Invalid(ep.Child("valueFrom"), "", "may not be specified when `value` is not empty"))
		}
	}
	var mounts unique
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		if !vols.Has(m.Name) {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		errs = append(errs, required(mp.Child("mountPath"), m.MountPath == "")...)
		errs = append(errs, mounts.check(mp.Child("mountPath"), m.MountPath)...)
	}
	errs = append(errs, checkResources(c.Resources, p.Child("resources"))...)
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
		errs = append(errs, checkProbe(pr.probe, p.Child(pr.name), pr.name != "readinessProbe")...)
	}
	return errs
}

// checkResources checks resource names and that no request exceeds its
// limit (ValidateContainerResourceRequirements).
func checkResources(r corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, list := range []struct {
		name string
		rl   corev1.ResourceList
	}{{"limits", r.Limits}, {"requests", r.Requests}} {
		for name, q := range list.rl {
			rp := p.Child(list.name).Key(string(name))
			errs = append(errs, resourceName(rp, string(name))...)
			if q.Sign() < 0 {
				errs = append(errs, field.Invalid(rp, q.String(), "must be greater than or equal to 0"))
			}
		}
	}
	for name, req := range r.Requests {
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), req.String(), "must be less than or equal to "+string(name)+" limit of "+lim.String()))
		}
	}
	return errs
}

// resourceName: a standard container resource, or a qualified name with
// a domain (validateContainerResourceName).
func resourceName(p *field.Path, name string) field.ErrorList {
	if errs := msgs(p, name, validation.IsQualifiedName(name)); len(errs) > 0 {
		return errs
	}
	switch corev1.ResourceName(name) {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return nil
	}
	if len(name) > len(corev1.ResourceHugePagesPrefix) && name[:len(corev1.ResourceHugePagesPrefix)] == corev1.ResourceHugePagesPrefix {
		if _, err := resource.ParseQuantity(name[len(corev1.ResourceHugePagesPrefix):]); err == nil {
			return nil
		}
	}
	for i := range name {
		if name[i] == '/' {
			return nil
		}
	}
	return field.ErrorList{field.Invalid(p, name, "must be a standard resource for containers")}
}

// checkProbe checks that a probe has exactly one handler, valid ports, and
// (liveness and startup) a successThreshold of 1.
func checkProbe(pr *corev1.Probe, p *field.Path, oneSuccess bool) field.ErrorList {
	if pr == nil {
		return nil
	}
	var errs field.ErrorList
	h := pr.ProbeHandler
	n := 0
	if h.Exec != nil {
		n++
	}
	if h.HTTPGet != nil {
		n++
		errs = append(errs, intOrPort(p.Child("httpGet", "port"), h.HTTPGet.Port)...)
	}
	if h.TCPSocket != nil {
		n++
		errs = append(errs, intOrPort(p.Child("tcpSocket", "port"), h.TCPSocket.Port)...)
	}
	if h.GRPC != nil {
		n++
		errs = append(errs, port(p.Child("grpc", "port"), h.GRPC.Port)...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(p, "must specify a handler type"))
	case n > 1:
		errs = append(errs, field.Forbidden(p, "may not specify more than 1 handler type"))
	}
	if oneSuccess && pr.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	for _, c := range []struct {
		name string
		v    int32
	}{{"initialDelaySeconds", pr.InitialDelaySeconds}, {"timeoutSeconds", pr.TimeoutSeconds}, {"periodSeconds", pr.PeriodSeconds}, {"successThreshold", pr.SuccessThreshold}, {"failureThreshold", pr.FailureThreshold}} {
		errs = append(errs, nonNegative(p.Child(c.name), &c.v)...)
	}
	return errs
}

// checkToleration: ValidateTolerations.
func checkToleration(t corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Key != "" {
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, p.Child("key"))...)
	}
	if t.Key == "" && t.Operator != corev1.TolerationOpExists {
		errs = append(errs, field.Invalid(p.Child("operator"), t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
	}
	if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
		errs = append(errs, field.Invalid(p.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	if t.Operator == corev1.TolerationOpExists && t.Value != "" {
		errs = append(errs, field.Invalid(p.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'"))
	}
	errs = append(errs, enum(p.Child("operator"), t.Operator, corev1.TolerationOpEqual, corev1.TolerationOpExists)...)
	errs = append(errs, enum(p.Child("effect"), t.Effect, corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute)...)
	return errs
}
