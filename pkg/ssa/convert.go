package ssa

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// sameVersion is the object converter and creator of a field manager that
// only ever sees unstructured objects of the version it merges: the live
// object is read, and the planned one written, in that version. Anything
// else is an error, which puts the object in doubt.
type sameVersion struct{}

func (sameVersion) Convert(in, out, _ any) error {
	return fmt.Errorf("conversion from %T to %T is not supported", in, out)
}

func (sameVersion) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	gvk := in.GetObjectKind().GroupVersionKind()
	if want, ok := target.KindForGroupVersionKinds([]schema.GroupVersionKind{gvk}); !ok || want != gvk {
		return nil, fmt.Errorf("%s: conversion to another version is not supported", gvk)
	}
	return in, nil
}

func (sameVersion) ConvertFieldLabel(gvk schema.GroupVersionKind, label, _ string) (string, string, error) {
	return "", "", fmt.Errorf("%s: field label %s: not supported", gvk, label)
}

func (sameVersion) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// noDefaults does not default: an object whose merge changes nothing needs
// no defaults (the live one has them), and a changed one is shown as merged.
type noDefaults struct{}

func (noDefaults) Default(runtime.Object) {}
