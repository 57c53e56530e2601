package printer

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"kcloud.dev/kcloud/pkg/status"
)

// StatusRecord is one stack in -o json output of status.
type StatusRecord struct {
	Stack       string         `json:"stack"`
	InInventory bool           `json:"inInventory"`
	Objects     int            `json:"objects"`
	Unhealthy   []ObjectRecord `json:"unhealthy"`
	Drift       int            `json:"drift"`
	Drifted     []string       `json:"drifted,omitempty"`
}

// ObjectRecord is one object that is not healthy.
type ObjectRecord struct {
	Ref     string `json:"ref"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// Status prints a status report as text or json.
func Status(w io.Writer, rep *status.Report, format string) error {
	var recs []StatusRecord
	for _, s := range rep.Stacks {
		rec := StatusRecord{Stack: s.Stack, InInventory: s.InInventory, Objects: len(s.Objects), Drift: len(s.Drifted), Unhealthy: []ObjectRecord{}}
		for _, ch := range s.Drifted {
			rec.Drifted = append(rec.Drifted, fmt.Sprintf("%s (%s)", ch.Ref, ch.Action))
		}
		for _, o := range s.Objects {
			if !o.Healthy() {
				rec.Unhealthy = append(rec.Unhealthy, ObjectRecord{Ref: o.Ref.String(), Status: o.Status.String(), Message: o.Message})
			}
		}
		recs = append(recs, rec)
	}
	if format == "json" {
		doc := struct {
			Healthy      bool                       `json:"healthy"`
			Stacks       []StatusRecord             `json:"stacks"`
			StorageClass []status.StorageClassCheck `json:"storageClasses"`
			LockHeldBy   string                     `json:"lockHeldBy,omitempty"`
		}{Healthy: rep.Healthy(), Stacks: recs, StorageClass: rep.StorageClass}
		if rep.Lock != nil {
			doc.LockHeldBy = rep.Lock.Holder
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tINVENTORY\tOBJECTS\tUNHEALTHY\tDRIFT")
	for _, r := range recs {
		inv := "yes"
		if !r.InInventory {
			inv = "none (never applied)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", r.Stack, inv, r.Objects, len(r.Unhealthy), r.Drift)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range recs {
		for _, o := range r.Unhealthy {
			fmt.Fprintf(w, "%s: %s %s: %s\n", r.Stack, Clean(o.Ref), o.Status, Clean(o.Message))
		}
		for _, d := range r.Drifted {
			fmt.Fprintf(w, "%s: drift: %s\n", r.Stack, Clean(fmt.Sprint(d)))
		}
	}
	for _, c := range rep.StorageClass {
		if len(c.Problems) == 0 {
			fmt.Fprintf(w, "StorageClass %s: matches the table\n", c.Name)
		}
		for _, p := range c.Problems {
			fmt.Fprintf(w, "StorageClass %s: %s\n", c.Name, Clean(fmt.Sprint(p)))
		}
	}
	if rep.Lock != nil {
		fmt.Fprintf(w, "lock: %s\n", Clean(rep.Lock.Error()))
	}
	if rep.Healthy() {
		_, err := fmt.Fprintln(w, "Healthy and in sync.")
		return err
	}
	_, err := fmt.Fprintln(w, "Not healthy or not in sync.")
	return err
}
