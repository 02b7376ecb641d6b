package change

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
)

// SourceKubernetes is the source of deploys read from Kubernetes objects
// (ParseKubernetes); with the object's uid and generation it is the
// idempotency key.
const SourceKubernetes = "kubernetes"

// Labels and annotations ParseKubernetes reads. The app.kubernetes.io ones
// are Kubernetes' recommended labels; the tandem.dev ones override them.
const (
	K8sLabelName         = "app.kubernetes.io/name"
	K8sLabelVersion      = "app.kubernetes.io/version"
	K8sLabelPartOf       = "app.kubernetes.io/part-of"
	K8sChangeCause       = "kubernetes.io/change-cause"
	K8sTandemService     = "tandem.dev/service"
	K8sTandemEnvironment = "tandem.dev/environment"
	K8sTandemCommit      = "tandem.dev/commit"
)

// k8sObject is the part of a Deployment (apps/v1) or an Argo Rollout
// (argoproj.io/v1alpha1) that names what was deployed, as `kubectl get -o
// json` prints it; a List holds several.
type k8sObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		UID         string            `json:"uid"`
		Generation  int64             `json:"generation"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Containers []struct {
					Name  string `json:"name"`
					Image string `json:"image"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
	Status struct {
		// Deployment: the Progressing condition says whether the rollout
		// ran out of its deadline.
		Conditions []struct {
			Type    string `json:"type"`
			Status  string `json:"status"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"conditions"`
		// Rollout: Healthy, Progressing, Paused or Degraded, and whether
		// it was aborted.
		Phase   string `json:"phase"`
		Message string `json:"message"`
		Abort   bool   `json:"abort"`
	} `json:"status"`
	Items []json.RawMessage `json:"items"`
}

// maxK8sItems bounds a List's items.
const maxK8sItems = 1000

// ParseKubernetes reads the deploys in `kubectl get -o json` output: one
// Deployment or Rollout, or a List of them. For each it gives a deploy
// event (not yet normalized):
//
//   - service: label or annotation tandem.dev/service, else label
//     app.kubernetes.io/name (of the object, then of its pod template),
//     else the object's name;
//   - version: label app.kubernetes.io/version, else the tag (or digest)
//     of the image of the container named like the service, else of the
//     first container;
//   - environment: label or annotation tandem.dev/environment, else the
//     namespace, else production;
//   - commit: annotation tandem.dev/commit;
//   - actor: annotation kubernetes.io/change-cause (what made the change);
//   - labels: part-of:<app.kubernetes.io/part-of>, and k8s:<Kind>;
//   - status: failed when a Deployment's Progressing condition is False
//     (ProgressDeadlineExceeded) or a Rollout is Degraded or aborted, with
//     the reason; success otherwise;
//   - idempotency key: source kubernetes, external id <uid>/<generation>,
//     so a hook that runs again for the same spec records nothing new.
//
// Anything else is an invalid *tandem.Error: not JSON, another kind, no
// name, an empty List.
func ParseKubernetes(data []byte) ([]Event, error) {
	var o k8sObject
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&o); err != nil {
		return nil, tandem.FieldErrorf("from-k8s", "want the JSON of `kubectl get -o json`: %v", err)
	}
	if dec.More() {
		return nil, tandem.FieldErrorf("from-k8s", "more than one JSON value: use `kubectl get -o json`, which prints a List for several objects")
	}
	if o.Kind != "List" && !strings.HasSuffix(o.Kind, "List") {
		e, err := k8sEvent(o)
		if err != nil {
			return nil, err
		}
		return []Event{e}, nil
	}
	if len(o.Items) == 0 {
		return nil, tandem.FieldErrorf("from-k8s", "the List holds no object: the selection is empty")
	}
	if len(o.Items) > maxK8sItems {
		return nil, tandem.FieldErrorf("from-k8s", "more than %d objects in the List", maxK8sItems)
	}
	out := make([]Event, 0, len(o.Items))
	for i, raw := range o.Items {
		var it k8sObject
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, tandem.FieldErrorf(fmt.Sprintf("from-k8s.items[%d]", i), "%v", err)
		}
		e, err := k8sEvent(it)
		if err != nil {
			if te, ok := err.(*tandem.Error); ok {
				c := *te
				c.Field = fmt.Sprintf("from-k8s.items[%d]", i)
				return nil, &c
			}
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func k8sEvent(o k8sObject) (Event, error) {
	kind := o.Kind
	switch {
	case kind == "Deployment" && strings.HasPrefix(o.APIVersion, "apps/"):
	case kind == "Rollout" && strings.HasPrefix(o.APIVersion, "argoproj.io/"):
	default:
		return Event{}, tandem.FieldErrorf("from-k8s", "want a Deployment (apps/v1) or an Argo Rollout (argoproj.io/v1alpha1), got kind %q of %q", kind, o.APIVersion)
	}
	md := o.Metadata
	if md.Name == "" {
		return Event{}, tandem.FieldErrorf("from-k8s", "the %s has no metadata.name", kind)
	}
	pick := func(keys []string, maps ...map[string]string) string {
		for _, k := range keys {
			for _, m := range maps {
				if v := strings.TrimSpace(m[k]); v != "" {
					return v
				}
			}
		}
		return ""
	}
	tmpl := o.Spec.Template.Metadata.Labels
	service := pick([]string{K8sTandemService}, md.Labels, md.Annotations)
	if service == "" {
		service = pick([]string{K8sLabelName}, md.Labels, tmpl)
	}
	if service == "" {
		service = md.Name
	}
	version := pick([]string{K8sLabelVersion}, md.Labels, tmpl)
	if cs := o.Spec.Template.Spec.Containers; version == "" && len(cs) > 0 {
		image := cs[0].Image
		for _, c := range cs {
			if c.Name == service || c.Name == md.Name {
				image = c.Image
				break
			}
		}
		version = imageVersion(image)
	}
	env := pick([]string{K8sTandemEnvironment}, md.Labels, md.Annotations)
	if env == "" {
		env = md.Namespace
	}
	if env == "" {
		env = catalog.DefaultEnvironment
	}
	e := Event{Service: service, Environment: env, Kind: KindDeploy, Version: version,
		Commit: pick([]string{K8sTandemCommit}, md.Annotations, md.Labels), Actor: md.Annotations[K8sChangeCause],
		Status: StatusSuccess, Labels: []string{"k8s:" + kind}}
	if p := pick([]string{K8sLabelPartOf}, md.Labels, tmpl); p != "" {
		e.Labels = append(e.Labels, "part-of:"+p)
	}
	if md.UID != "" {
		e.Source, e.ExternalID = SourceKubernetes, md.UID+"/"+strconv.FormatInt(md.Generation, 10)
	}
	for _, c := range o.Status.Conditions {
		if kind == "Deployment" && c.Type == "Progressing" && c.Status == "False" {
			e.Status, e.FailureReason = StatusFailed, strings.TrimSpace(c.Reason+": "+c.Message)
		}
	}
	if kind == "Rollout" && (o.Status.Phase == "Degraded" || o.Status.Abort) {
		e.Status, e.FailureReason = StatusFailed, strings.TrimSpace("rollout "+strings.ToLower(o.Status.Phase)+": "+o.Status.Message)
		if o.Status.Abort {
			e.FailureReason = strings.TrimSpace("rollout aborted: " + o.Status.Message)
		}
	}
	if len(e.Actor) > maxText {
		e.Actor = e.Actor[:maxText]
	}
	if len(e.FailureReason) > maxText {
		e.FailureReason = e.FailureReason[:maxText]
	}
	return e, nil
}

// imageVersion is an image reference's tag ("1.4.2" of
// ghcr.io/x/checkout:1.4.2), else its digest, else "".
func imageVersion(image string) string {
	ref, digest, _ := strings.Cut(image, "@")
	last := ref[strings.LastIndexByte(ref, '/')+1:]
	if _, tag, ok := strings.Cut(last, ":"); ok && tag != "" {
		return tag
	}
	return digest
}
