package githubtest

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

//go:embed testdata/schema.graphql
var schemaSDL string

// parsedSchema parses GitHub's schema once per process: it is immutable after
// parsing, and parsing 1.2 MB per test server would dominate test time.
var parsedSchema = sync.OnceValues(func() (*ast.Schema, error) {
	src := &ast.Source{Name: "schema.graphql", Input: schemaSDL}
	doc, err := parser.ParseSchemas(validator.Prelude, src)
	if err != nil {
		return nil, err
	}
	// The published schema (@octokit/graphql-schema 15.26.1) defines
	// EnterpriseOwnerInfo.repositoryDeployKeySetting (and its twin) twice, which
	// gqlparser rejects; repeated definitions of a field are dropped.
	for _, defs := range [][]*ast.Definition{doc.Definitions, doc.Extensions} {
		for _, d := range defs {
			seen := map[string]bool{}
			keep := d.Fields[:0]
			for _, f := range d.Fields {
				if !seen[f.Name] {
					seen[f.Name] = true
					keep = append(keep, f)
				}
			}
			d.Fields = keep
		}
	}
	schema, gerr := validator.ValidateSchemaDocument(doc)
	if gerr != nil {
		return nil, gerr
	}
	return schema, nil
})

// Schema returns GitHub's public GraphQL schema (testdata/schema.graphql).
func Schema() (*ast.Schema, error) {
	s, err := parsedSchema()
	if err != nil {
		return nil, fmt.Errorf("githubtest: load GitHub GraphQL schema: %w", err)
	}
	return s, nil
}

// ValidateQuery parses and validates a GraphQL document against GitHub's public
// schema, for tests of the queries a client sends.
func ValidateQuery(query string) error {
	schema, err := Schema()
	if err != nil {
		return err
	}
	if _, errs := gqlparser.LoadQuery(schema, query); len(errs) > 0 {
		return fmt.Errorf("githubtest: invalid GraphQL query: %w", errs)
	}
	return nil
}

// QueryCost computes a query's rate-limit cost in points by GitHub's documented
// formula ("Rate limits and query limits for the GraphQL API"): one request per connection per parent node, assuming every
// first/last is reached; the sum divided by 100 and rounded, at least 1. It also
// returns the node count (GitHub allows 500,000).
func QueryCost(query string, vars map[string]any) (cost, nodes int, err error) {
	schema, err := Schema()
	if err != nil {
		return 0, 0, err
	}
	doc, errs := gqlparser.LoadQuery(schema, query)
	if len(errs) > 0 {
		return 0, 0, fmt.Errorf("githubtest: invalid GraphQL query: %w", errs)
	}
	op, err := pickOperation(doc, "")
	if err != nil {
		return 0, 0, err
	}
	cv, err := validator.VariableValues(schema, op, vars)
	if err != nil {
		return 0, 0, err
	}
	return computeCost(doc, op, cv)
}

// gqlError is one entry of a response's "errors" in GitHub's shape.
type gqlError struct {
	Type      string              `json:"type,omitempty"`
	Path      []any               `json:"path,omitempty"`
	Locations []gqlerror.Location `json:"locations,omitempty"`
	Message   string              `json:"message"`
}

func (e *gqlError) Error() string { return e.Message }

type graphqlEngine struct{ s *Server }

func newGraphQLEngine(s *Server) *graphqlEngine { return &graphqlEngine{s: s} }

func pickOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, error) {
	if name != "" {
		if op := doc.Operations.ForName(name); op != nil {
			return op, nil
		}
		return nil, fmt.Errorf("unknown operation named %q", name)
	}
	if len(doc.Operations) != 1 {
		return nil, errors.New("an operation name is required when the document has several operations")
	}
	return doc.Operations[0], nil
}

func (g *graphqlEngine) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s := g.s
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	reply := func(v any) {
		s.rateHeaders(h, true)
		b, _ := json.Marshal(v)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	}
	fail := func(errs ...any) { reply(obj{"errors": errs}) }
	var req struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(body, &req) != nil || strings.TrimSpace(req.Query) == "" {
		fail(obj{"message": "Problems parsing JSON"})
		return
	}
	schema, err := Schema()
	if err != nil {
		fail(obj{"message": err.Error()})
		return
	}
	doc, errs := gqlparser.LoadQuery(schema, req.Query)
	if len(errs) > 0 {
		out := make([]any, len(errs))
		for i, e := range errs {
			out[i] = e
		}
		fail(out...)
		return
	}
	op, err := pickOperation(doc, req.OperationName)
	if err != nil {
		fail(obj{"message": err.Error()})
		return
	}
	if op.Operation != ast.Query {
		fail(obj{"message": "githubtest: only queries are simulated, not " + string(op.Operation)})
		return
	}
	vars, err := validator.VariableValues(schema, op, req.Variables)
	if err != nil {
		fail(err)
		return
	}
	cost, nodes, err := computeCost(doc, op, vars)
	if err != nil {
		fail(err)
		return
	}
	if !s.chargeGraphQL(cost) {
		fail(&gqlError{Type: "RATE_LIMITED", Message: "API rate limit exceeded for user ID 1."})
		return
	}
	ec := &execCtx{s: s, schema: schema, doc: doc, vars: vars, cost: cost, nodes: nodes}
	// One read lock for the whole execution: Update cannot interleave, and the
	// resolvers never lock again (a recursive RLock can deadlock behind a writer).
	s.dataMu.RLock()
	data := ec.selectionSet(queryNode{}, op.SelectionSet, nil)
	s.dataMu.RUnlock()
	resp := obj{"data": data}
	if len(ec.errs) > 0 {
		resp["errors"] = ec.errs
	}
	reply(resp)
}

// computeCost walks every connection (fields whose type ends in "Connection").
func computeCost(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) (int, int, error) {
	requests, nodes := 0, 0
	var walk func(set ast.SelectionSet, mult int, depth int) error
	walk = func(set ast.SelectionSet, mult int, depth int) error {
		if depth > 64 {
			return errors.New("query is nested too deeply")
		}
		for _, sel := range set {
			switch x := sel.(type) {
			case *ast.Field:
				if x.Definition == nil || skipped(x.Directives, vars) {
					continue
				}
				m := mult
				if strings.HasSuffix(x.Definition.Type.Name(), "Connection") {
					args := x.ArgumentMap(vars)
					n, okF := argInt(args, "first")
					l, okL := argInt(args, "last")
					if !okF && !okL {
						return &gqlError{Type: "MISSING_PAGINATION_BOUNDARIES", Path: []any{x.Name},
							Message: fmt.Sprintf("You must provide a `first` or `last` value to properly paginate the `%s` connection.", x.Name)}
					}
					if okL && (!okF || l > n) {
						n = l
					}
					if n < 0 || n > 100 {
						return &gqlError{Type: "EXCESSIVE_PAGINATION", Path: []any{x.Name},
							Message: fmt.Sprintf("Requesting %d records on the `%s` connection exceeds the `first` limit of 100 records.", n, x.Name)}
					}
					requests += mult
					m = mult * n
					nodes += m
				}
				if err := walk(x.SelectionSet, m, depth+1); err != nil {
					return err
				}
			case *ast.InlineFragment:
				if skipped(x.Directives, vars) {
					continue
				}
				if err := walk(x.SelectionSet, mult, depth+1); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				if def := doc.Fragments.ForName(x.Name); def != nil {
					if err := walk(def.SelectionSet, mult, depth+1); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := walk(op.SelectionSet, 1, 0); err != nil {
		return 0, 0, err
	}
	if nodes > 500000 {
		return 0, 0, &gqlError{Type: "MAX_NODE_LIMIT_EXCEEDED", Message: fmt.Sprintf("This query requests up to %d possible nodes which exceeds the maximum limit of 500,000.", nodes)}
	}
	cost := int(math.Round(float64(requests) / 100))
	return max(cost, 1), nodes, nil
}

func argInt(args map[string]any, name string) (int, bool) {
	switch v := args[name].(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	case string:
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	return 0, false
}

func argString(args map[string]any, name string) string {
	if v, ok := args[name].(string); ok {
		return v
	}
	return ""
}

func argTime(args map[string]any, name string) (time.Time, error) {
	v := argString(args, name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, &gqlError{Message: fmt.Sprintf("Argument '%s' on Field has an invalid value (%s). Expected type 'GitTimestamp'.", name, v)}
	}
	return t, nil
}

func argStrings(args map[string]any, name string) []string {
	var out []string
	switch v := args[name].(type) {
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		out = []string{v}
	}
	return out
}

// node is a GraphQL object the executor can resolve fields on.
type node interface {
	typeName() string
	resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error)
}

type execCtx struct {
	s      *Server
	schema *ast.Schema
	doc    *ast.QueryDocument
	vars   map[string]any
	cost   int
	nodes  int
	errs   []*gqlError
}

func errNotSimulated(typ, field string) error {
	return &gqlError{Message: fmt.Sprintf("githubtest: field %s.%s is valid but not simulated", typ, field)}
}

// applies reports whether a fragment with type condition cond applies to typ.
func (ec *execCtx) applies(typ, cond string) bool {
	if cond == "" || cond == typ {
		return true
	}
	def := ec.schema.Types[typ]
	if def != nil {
		for _, i := range def.Interfaces {
			if i == cond {
				return true
			}
		}
	}
	if c := ec.schema.Types[cond]; c != nil && c.Kind == ast.Union {
		for _, t := range c.Types {
			if t == typ {
				return true
			}
		}
	}
	return false
}

func (ec *execCtx) skipped(dirs ast.DirectiveList) bool { return skipped(dirs, ec.vars) }

// skipped applies @skip and @include.
func skipped(dirs ast.DirectiveList, vars map[string]any) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		v, _ := d.ArgumentMap(vars)["if"].(bool)
		if (d.Name == "skip" && v) || (d.Name == "include" && !v) {
			return true
		}
	}
	return false
}

// collect groups the fields that apply to typ by response key, in order, merging
// the sub-selections of repeated keys (GraphQL's CollectFields).
func (ec *execCtx) collect(typ string, set ast.SelectionSet, keys *[]string, groups map[string][]*ast.Field) {
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			if ec.skipped(x.Directives) {
				continue
			}
			k := x.Alias
			if k == "" {
				k = x.Name
			}
			if _, ok := groups[k]; !ok {
				*keys = append(*keys, k)
			}
			groups[k] = append(groups[k], x)
		case *ast.InlineFragment:
			if !ec.skipped(x.Directives) && ec.applies(typ, x.TypeCondition) {
				ec.collect(typ, x.SelectionSet, keys, groups)
			}
		case *ast.FragmentSpread:
			def := ec.doc.Fragments.ForName(x.Name)
			if def != nil && !ec.skipped(x.Directives) && ec.applies(typ, def.TypeCondition) {
				ec.collect(typ, def.SelectionSet, keys, groups)
			}
		}
	}
}

func (ec *execCtx) selectionSet(n node, set ast.SelectionSet, path []any) map[string]any {
	var keys []string
	groups := map[string][]*ast.Field{}
	ec.collect(n.typeName(), set, &keys, groups)
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		fs := groups[k]
		f := fs[0]
		if len(fs) > 1 {
			merged := *f
			merged.SelectionSet = nil
			for _, x := range fs {
				merged.SelectionSet = append(merged.SelectionSet, x.SelectionSet...)
			}
			f = &merged
		}
		p := append(append([]any(nil), path...), k)
		if f.Name == "__typename" {
			out[k] = n.typeName()
			continue
		}
		v, err := n.resolve(ec, f, f.ArgumentMap(ec.vars))
		if err != nil {
			ge := &gqlError{Message: err.Error()}
			errors.As(err, &ge)
			e := *ge
			e.Path = p
			if f.Position != nil {
				e.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
			}
			ec.errs = append(ec.errs, &e)
			out[k] = nil
			continue
		}
		out[k] = ec.complete(v, f, p)
	}
	return out
}

func (ec *execCtx) complete(v any, f *ast.Field, path []any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case node:
		if isNilNode(x) {
			return nil
		}
		return ec.selectionSet(x, f.SelectionSet, path)
	case []node:
		out := make([]any, len(x))
		for i, n := range x {
			out[i] = ec.complete(n, f, append(append([]any(nil), path...), i))
		}
		return out
	case time.Time:
		return ts(x)
	case *time.Time:
		return tsPtr(x)
	}
	return v
}

func isNilNode(n node) bool {
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// connection is any XxxConnection: a page of nodes out of a full list.
type connection struct {
	typ        string
	all        []node
	start, end int
}

func encodeCursor(i int) string {
	return base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(i)))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "cursor:v2:"))
	return n, err == nil && strings.HasPrefix(string(b), "cursor:v2:")
}

// newConnection applies first/after/last/before to all.
func newConnection(f *ast.Field, args map[string]any, all []node) (*connection, error) {
	c := &connection{typ: f.Definition.Type.Name(), all: all, end: len(all)}
	if a := argString(args, "after"); a != "" {
		i, ok := decodeCursor(a)
		if !ok {
			return nil, &gqlError{Message: fmt.Sprintf("`%s` does not appear to be a valid cursor.", a)}
		}
		c.start = min(i+1, len(all))
	}
	if b := argString(args, "before"); b != "" {
		i, ok := decodeCursor(b)
		if !ok {
			return nil, &gqlError{Message: fmt.Sprintf("`%s` does not appear to be a valid cursor.", b)}
		}
		c.end = max(min(i, c.end), c.start)
	}
	if n, ok := argInt(args, "first"); ok {
		c.end = min(c.end, c.start+n)
	}
	if n, ok := argInt(args, "last"); ok {
		c.start = max(c.start, c.end-n)
	}
	return c, nil
}

func (c *connection) typeName() string { return c.typ }

func (c *connection) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "totalCount":
		return len(c.all), nil
	case "nodes":
		return c.all[c.start:c.end], nil
	case "edges":
		edges := make([]node, 0, c.end-c.start)
		for i := c.start; i < c.end; i++ {
			edges = append(edges, &edgeNode{typ: strings.TrimSuffix(c.typ, "Connection") + "Edge", cursor: encodeCursor(i), n: c.all[i]})
		}
		return edges, nil
	case "pageInfo":
		return &pageInfoNode{c: c}, nil
	}
	return nil, errNotSimulated(c.typ, f.Name)
}

type edgeNode struct {
	typ    string
	cursor string
	n      node
}

func (e *edgeNode) typeName() string { return e.typ }
func (e *edgeNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "cursor":
		return e.cursor, nil
	case "node":
		return e.n, nil
	}
	return nil, errNotSimulated(e.typ, f.Name)
}

type pageInfoNode struct{ c *connection }

func (p *pageInfoNode) typeName() string { return "PageInfo" }
func (p *pageInfoNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	c := p.c
	switch f.Name {
	case "hasNextPage":
		return c.end < len(c.all), nil
	case "hasPreviousPage":
		return c.start > 0, nil
	case "startCursor":
		if c.end <= c.start {
			return nil, nil
		}
		return encodeCursor(c.start), nil
	case "endCursor":
		if c.end <= c.start {
			return nil, nil
		}
		return encodeCursor(c.end - 1), nil
	}
	return nil, errNotSimulated("PageInfo", f.Name)
}
