package kube

import (
	gojson "encoding/json"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/json"
)

// listItems reads a LIST's JSON body as a stream and decodes the items
// that want names, each as the dynamic client decodes it
// (k8s.io/apimachinery's JSON, integers kept as int64; an item without
// apiVersion and kind gets the list's, "List" cut from its kind:
// https://github.com/kubernetes/apimachinery/blob/v0.37.2/pkg/apis/meta/v1/unstructured/helpers.go,
// decodeToList). The others are only passed over: their names are
// returned. The dynamic client holds the whole body and decodes every
// item whole, twice (the whole list into maps, then each item again); a
// diff that needs a tenth of a resource's objects decodes that tenth,
// once, holding one item's text at a time.
func listItems(body io.Reader, want func(name string) bool) (items map[string]*unstructured.Unstructured, passed map[string]bool, err error) {
	dec := gojson.NewDecoder(body)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, nil, err
	}
	items, passed = map[string]*unstructured.Unstructured{}, map[string]bool{}
	var apiVersion, kind string
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		switch key {
		case "apiVersion":
			err = dec.Decode(&apiVersion)
		case "kind":
			err = dec.Decode(&kind)
		case "items":
			err = decodeItems(dec, want, items, passed)
		default:
			var skip gojson.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, nil, err
	}
	for _, obj := range items {
		if obj.GetKind() == "" && obj.GetAPIVersion() == "" {
			obj.SetKind(strings.TrimSuffix(kind, "List"))
			obj.SetAPIVersion(apiVersion)
		}
	}
	return items, passed, nil
}

// decodeItems reads the items array, one item's text at a time.
func decodeItems(dec *gojson.Decoder, want func(name string) bool, items map[string]*unstructured.Unstructured, passed map[string]bool) error {
	if t, err := dec.Token(); err != nil || t == nil {
		return err // null: no items
	} else if t != gojson.Delim('[') {
		return fmt.Errorf("items: %v, want an array", t)
	}
	for dec.More() {
		var raw gojson.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		var head struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return err
		}
		name := head.Metadata.Name
		if !want(name) {
			passed[name] = true
			continue
		}
		obj := &unstructured.Unstructured{Object: map[string]any{}}
		if err := json.Unmarshal(raw, &obj.Object); err != nil {
			return err
		}
		items[name] = obj
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *gojson.Decoder, d gojson.Delim) error {
	t, err := dec.Token()
	if err == nil && t != d {
		err = fmt.Errorf("%v, want %v", t, d)
	}
	return err
}
