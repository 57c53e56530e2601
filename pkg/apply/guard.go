package apply

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// guardedClient checks the apply lock before every delete that goes through
// it: cli-utils prunes with the dynamic client it is given, so a lost lock
// stops pruning before the first delete, whatever cli-utils does.
type guardedClient struct {
	dynamic.Interface
	check func(context.Context) error
}

var (
	_ dynamic.Interface                      = guardedClient{}
	_ dynamic.NamespaceableResourceInterface = guardedResource{}
	_ dynamic.ResourceInterface              = guardedNamespaced{}
)

func (g guardedClient) Resource(r schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return guardedResource{NamespaceableResourceInterface: g.Interface.Resource(r), check: g.check}
}

type guardedResource struct {
	dynamic.NamespaceableResourceInterface
	check func(context.Context) error
}

func (g guardedResource) Namespace(ns string) dynamic.ResourceInterface {
	return guardedNamespaced{ResourceInterface: g.NamespaceableResourceInterface.Namespace(ns), check: g.check}
}

func (g guardedResource) Delete(ctx context.Context, name string, opts metav1.DeleteOptions, sub ...string) error {
	if err := g.check(ctx); err != nil {
		return fmt.Errorf("not deleted: %w", err)
	}
	return g.NamespaceableResourceInterface.Delete(ctx, name, opts, sub...)
}

func (g guardedResource) DeleteCollection(ctx context.Context, opts metav1.DeleteOptions, list metav1.ListOptions) error {
	if err := g.check(ctx); err != nil {
		return fmt.Errorf("not deleted: %w", err)
	}
	return g.NamespaceableResourceInterface.DeleteCollection(ctx, opts, list)
}

type guardedNamespaced struct {
	dynamic.ResourceInterface
	check func(context.Context) error
}

func (g guardedNamespaced) Delete(ctx context.Context, name string, opts metav1.DeleteOptions, sub ...string) error {
	if err := g.check(ctx); err != nil {
		return fmt.Errorf("not deleted: %w", err)
	}
	return g.ResourceInterface.Delete(ctx, name, opts, sub...)
}

func (g guardedNamespaced) DeleteCollection(ctx context.Context, opts metav1.DeleteOptions, list metav1.ListOptions) error {
	if err := g.check(ctx); err != nil {
		return fmt.Errorf("not deleted: %w", err)
	}
	return g.ResourceInterface.DeleteCollection(ctx, opts, list)
}
