package config

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a configuration, at a path such as
// "github.repos[2].deployments.source" (empty for the file as a whole).
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Errors lists every problem of a configuration, in file order for the
// structure (unknown keys, wrong types) and then in key order for values.
type Errors struct {
	Problems []Problem
}

// Error is one "path: message" line per problem.
func (e *Errors) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

type problems []Problem

// typeMessage prefixes the problems of values of the wrong type.
const typeMessage = "want "

// typeProblemNear reports whether a wrong-type problem sits at path, under it or
// above it.
func (p problems) typeProblemNear(path string) bool {
	for _, q := range p {
		if !strings.HasPrefix(q.Message, typeMessage) {
			continue
		}
		if q.Path == path || within(path, q.Path) || within(q.Path, path) {
			return true
		}
	}
	return false
}

// within reports whether path is below parent ("a.b[1].c" is below "a.b").
func within(path, parent string) bool {
	if parent == "" {
		return true
	}
	rest, ok := strings.CutPrefix(path, parent)
	return ok && (strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "["))
}

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// decodeNode decodes n into v strictly, recording every unknown key, duplicate
// key and wrong type with its path instead of stopping at the first, as yaml.v3's
// KnownFields would.
func decodeNode(p *problems, path string, n *yaml.Node, v reflect.Value) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value leaves the default
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		decodeNode(p, path, n, e.Elem())
		v.Set(e)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.add(path, "want a mapping, got %s", describe(n))
			return
		}
		fields := map[string]reflect.Value{}
		structFields(v, fields)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := k.Value
			switch {
			case k.Tag == "!!merge":
				p.add(path, "merge keys (<<) are not supported")
				continue
			case seen[key]:
				p.add(join(path, key), "duplicate key")
				continue
			}
			seen[key] = true
			f, ok := fields[key]
			if !ok {
				if isTokenKey(key) {
					p.add(join(path, key), "unknown key: tokens are read only from token_file or token_env")
				} else {
					p.add(join(path, key), "unknown key")
				}
				continue
			}
			decodeNode(p, join(path, key), val, f)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.add(path, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			decodeNode(p, index(path, i), e, s.Index(i))
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			p.add(path, "want a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.Decode(&i) != nil {
			p.add(path, "want an integer, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			p.add(path, "want true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("config: no decoder for %s", v.Type())) // a programming error in config.go's types
	}
}

func isTokenKey(k string) bool {
	switch strings.ToLower(k) {
	case "token", "api_token", "apitoken", "password", "secret", "auth_token":
		return true
	}
	return false
}

// structFields maps yaml keys to v's fields, descending into inline structs.
func structFields(v reflect.Value, out map[string]reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" {
			structFields(v.Field(i), out)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		out[name] = v.Field(i)
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}
