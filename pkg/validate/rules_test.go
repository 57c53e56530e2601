package validate_test

import (
	"strings"
	"testing"
)

// ruleInvalids are objects the API server v1.37 refuses for what only its
// own validation checks (the schema accepts them): metadata, served
// versions, kinds of built-in groups, field rules, and a List's item.
var ruleInvalids = []invalid{
	// Item 1: metadata, with apimachinery's validation.
	{"label value too long", "objects", "L4", `apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME
  labels:
    app: ` + strings.Repeat("a", 64) + ` #!`, `ConfigMap NAME: metadata.labels[app]: Invalid value: "` + strings.Repeat("a", 64) + `": must be no more than 63 bytes`},
	{"label key prefix", "manifest", "L4", `apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME
  labels:
    Bad_Prefix/app: web #!`, `ConfigMap NAME: metadata.labels[Bad_Prefix/app]: Invalid value: "Bad_Prefix/app": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
	{"label key name too long", "manifest", "L4", `apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME
  labels:
    example.com/` + strings.Repeat("n", 64) + `: x #!`, `ConfigMap NAME: metadata.labels[example.com/` + strings.Repeat("n", 64) + `]: Invalid value: "example.com/` + strings.Repeat("n", 64) + `": name part must be no more than 63 bytes`},
	{"annotation key", "url", "L4", `apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME
  annotations:
    'x("y")': z #!`, `ConfigMap NAME: metadata.annotations[x("y")]: Invalid value: "x(\"y\")": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`},
	{"owner reference without uid", "manifest", "L4", `apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME
  ownerReferences:
    - apiVersion: v1 #!
      kind: ConfigMap
      name: parent`, `ConfigMap NAME: metadata.ownerReferences[0].uid: Required value: must not be empty`},
	{"finalizer name", "manifest", "L4", `apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME
  finalizers:
    - "not a finalizer" #!`, `ConfigMap NAME: metadata.finalizers[0]: Invalid value: "not a finalizer": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`},
	{"service name is a DNS-1035 label", "manifest", "L4", `apiVersion: v1
kind: Service
metadata:
  name: 1web #!
spec:
  ports: [{port: 80}]`, `Service 1web: metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`},
	{"cronjob name of 53", "manifest", "L4", `apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron` + strings.Repeat("x", 49) + ` #!
spec:
  schedule: "0 * * * *"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: x, image: busybox}]}}}}`, `CronJob cron` + strings.Repeat("x", 49) + `: metadata.name: Invalid value: "cron` + strings.Repeat("x", 49) + `": must be no more than 52 characters`},

	// Item 2: served versions, from k8s.io/api's lifecycle data.
	{"apps/v1beta1 Deployment", "manifest", "L4", `apiVersion: apps/v1beta1 #!
kind: Deployment
metadata: {name: NAME}
spec: {template: {spec: {containers: [{name: x, image: busybox}]}}}`, `Deployment NAME: apiVersion: apps/v1beta1 Deployment is no longer served since Kubernetes 1.16 (the Cluster runs 1.37): use apps/v1 Deployment`},
	{"extensions/v1beta1 DaemonSet", "url", "L4", `apiVersion: extensions/v1beta1 #!
kind: DaemonSet
metadata: {name: NAME}`, `DaemonSet NAME: apiVersion: extensions/v1beta1 DaemonSet is no longer served since Kubernetes 1.16 (the Cluster runs 1.37): use apps/v1 DaemonSet`},
	{"policy/v1beta1 PodDisruptionBudget", "manifest", "L4", `apiVersion: policy/v1beta1 #!
kind: PodDisruptionBudget
metadata: {name: NAME}
spec: {minAvailable: 1}`, `PodDisruptionBudget NAME: apiVersion: policy/v1beta1 PodDisruptionBudget is no longer served since Kubernetes 1.25 (the Cluster runs 1.37): use policy/v1 PodDisruptionBudget`},
	{"batch/v1beta1 CronJob", "objects", "L4", `apiVersion: batch/v1beta1 #!
kind: CronJob
metadata: {name: NAME}
spec:
  schedule: "0 * * * *"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: x, image: busybox}]}}}}`, `CronJob NAME: apiVersion: batch/v1beta1 CronJob is no longer served since Kubernetes 1.25 (the Cluster runs 1.37): use batch/v1 CronJob`},

	// Item 3: kinds of built-in groups.
	{"unknown kind in apps", "manifest", "L4", `apiVersion: apps/v1 #!
kind: Deploymnet
metadata: {name: NAME}`, `Deploymnet NAME: apiVersion: kind Deploymnet (apps/v1) does not exist in Kubernetes 1.37: apps is a built-in API group, so no CustomResourceDefinition can add it`},
	{"PodSecurityPolicy", "url", "L1", `apiVersion: policy/v1beta1 #!
kind: PodSecurityPolicy
metadata: {name: NAME}`, `PodSecurityPolicy NAME: apiVersion: kind PodSecurityPolicy (policy/v1beta1) does not exist in Kubernetes 1.37: policy is a built-in API group, so no CustomResourceDefinition can add it`},
	{"InitializerConfiguration", "manifest", "L1", `apiVersion: admissionregistration.k8s.io/v1alpha1 #!
kind: InitializerConfiguration
metadata: {name: NAME}`, `InitializerConfiguration NAME: apiVersion: kind InitializerConfiguration (admissionregistration.k8s.io/v1alpha1) does not exist in Kubernetes 1.37: admissionregistration.k8s.io is a built-in API group, so no CustomResourceDefinition can add it`},
	{"core kind in the wrong group version", "manifest", "L4", `apiVersion: apps/v1 #!
kind: ConfigMap
metadata: {name: NAME}`, `ConfigMap NAME: apiVersion: kind ConfigMap (apps/v1) does not exist in Kubernetes 1.37: apps is a built-in API group, so no CustomResourceDefinition can add it`},
	{"alpha version", "manifest", "L1", `apiVersion: storage.k8s.io/v1alpha1 #!
kind: VolumeAttributesClass
metadata: {name: NAME}
driverName: x`, `VolumeAttributesClass NAME: apiVersion: storage.k8s.io/v1alpha1 is an alpha API version: Kubernetes serves alpha versions only when the API server is started with --runtime-config for them`},

	// Item 4: Kubernetes' field rules.
	{"invalid quantity", "manifest", "L4", `apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  containers:
    - name: x
      image: busybox
      resources:
        limits:
          memory: 1GB-x #!`, `Pod NAME: spec.containers[0].resources.limits.memory: invalid quantity "1GB-x": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`},
	{"containers empty", "manifest", "L4", `apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [] #!`, `Deployment NAME: spec.template.spec.containers: Required value`},
	{"container port 70000", "url", "L4", `apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  containers:
    - name: x
      image: busybox
      ports:
        - containerPort: 70000 #!`, `Pod NAME: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive`},
	{"selector does not match", "objects", "L4", `apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: api} #!
    spec: {containers: [{name: x, image: busybox}]}`, "Deployment NAME: spec.template.metadata.labels: Invalid value: {\"app\":\"api\"}: `selector` does not match template `labels`"},
	{"env name", "manifest", "L4", `apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  containers:
    - name: x
      image: busybox
      env:
        - name: A=B #!
          value: "1"`, `Pod NAME: spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`},
	{"volume name", "manifest", "L4", `apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  volumes:
    - name: Data_Dir #!
      emptyDir: {}
  containers: [{name: x, image: busybox}]`, `Pod NAME: spec.volumes[0].name: Invalid value: "Data_Dir": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
	{"mount of no volume", "manifest", "L4", `apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  containers:
    - name: x
      image: busybox
      volumeMounts:
        - name: data #!
          mountPath: /data`, `Pod NAME: spec.containers[0].volumeMounts[0].name: Not found: "data"`},
	{"probe without handler", "manifest", "L4", `apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  containers:
    - name: x
      image: busybox
      livenessProbe: #!
        periodSeconds: 5`, `Pod NAME: spec.containers[0].livenessProbe: Required value: must specify a handler type`},
	{"request above limit", "manifest", "L4", `apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  containers:
    - name: x
      image: busybox
      resources:
        limits: {cpu: 500m}
        requests:
          cpu: "1" #!`, `Pod NAME: spec.containers[0].resources.requests[cpu]: Invalid value: "1": must be less than or equal to cpu limit of 500m`},
	{"service port", "manifest", "L4", `apiVersion: v1
kind: Service
metadata: {name: NAME}
spec:
  ports:
    - port: 70000 #!`, `Service NAME: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive`},
	{"service ports without names", "manifest", "L4", `apiVersion: v1
kind: Service
metadata: {name: NAME}
spec:
  ports:
    - {name: http, port: 80}
    - port: 443 #!`, `Service NAME: spec.ports[1].name: Required value`},
	{"ingress pathType", "manifest", "L4", `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: NAME}
spec:
  rules:
    - http:
        paths:
          - path: / #!
            backend: {service: {name: web, port: {number: 80}}}`, `Ingress NAME: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified`},
	{"pvc accessModes", "objects", "L4", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: NAME}
spec: #!
  storageClassName: local-path-retain
  resources: {requests: {storage: 1Gi}}`, `PersistentVolumeClaim NAME: spec.accessModes: Required value`},
	{"configmap key", "objects", "L4", `apiVersion: v1
kind: ConfigMap
metadata: {name: NAME}
data:
  "a b": x #!`, `ConfigMap NAME: data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`},
	{"rolebinding apiGroup", "objects", "L4", `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: NAME}
roleRef:
  apiGroup: rbac #!
  kind: Role
  name: r`, `RoleBinding NAME: roleRef.apiGroup: Unsupported value: "rbac": supported values: "rbac.authorization.k8s.io"`},
	{"networkpolicy cidr", "manifest", "L4", `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: NAME}
spec:
  podSelector: {}
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.0/33 #!`, `NetworkPolicy NAME: spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`},
	{"hpa max below min", "manifest", "L4", `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: NAME}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 2 #!`, "HorizontalPodAutoscaler NAME: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"},
	{"pdb both", "manifest", "L4", `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: NAME}
spec: #!
  minAvailable: 1
  maxUnavailable: 1`, `PodDisruptionBudget NAME: spec: Invalid value: {"minAvailable":1,"maxUnavailable":1}: minAvailable and maxUnavailable cannot be both set`},
	{"job restartPolicy", "manifest", "L4", `apiVersion: batch/v1
kind: Job
metadata: {name: NAME}
spec:
  template:
    spec: #!
      containers: [{name: x, image: busybox}]`, `Job NAME: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"`},
	{"cronjob schedule", "manifest", "L4", `apiVersion: batch/v1
kind: CronJob
metadata: {name: NAME}
spec:
  schedule: "every hour" #!
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: x, image: busybox}]}}}}`, `CronJob NAME: spec.schedule: Invalid value: "every hour": expected exactly 5 fields, found 2: [every hour]`},
	{"secret data not base64", "url", "L4", `apiVersion: v1
kind: Secret
metadata: {name: NAME}
data:
  tls.crt: REPLACE_WITH_BASE64 #!`, `Secret NAME: data[tls.crt]: Invalid value: "(value not shown)": must be base64: illegal base64 data at input byte 7`},
	{"dual-stack service", "manifest", "L4", `apiVersion: v1
kind: Service
metadata: {name: NAME}
spec:
  ipFamilyPolicy: RequireDualStack #!
  ports: [{port: 80}]`, `Service NAME: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services (K3s's default single-stack IPv4)`},

	// Item 5: a List's items are objects of their own, at their own place.
	{"list item label", "manifest", "L4", `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: NAME
      labels:
        app: "-bad-" #!`, `ConfigMap NAME: metadata.labels[app]: Invalid value: "-bad-": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`},
}

// TestInvalidByKubernetesRules checks that each object the API server
// would refuse is reported at its file:line:col, with no API call (no
// client exists).
func TestInvalidByKubernetesRules(t *testing.T) { checkInvalids(t, ruleInvalids) }
