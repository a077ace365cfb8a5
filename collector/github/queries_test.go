package github

import (
	"os"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// loadSchema reads GitHub's public GraphQL schema, preferring githubtest's copy
// (whose README notes its source) over the shared fixture. The published schema
// (@octokit/graphql-schema 15.26.1) defines EnterpriseOwnerInfo's
// repositoryDeployKeySetting fields twice, which gqlparser rejects; the second,
// identical definitions are dropped before validation.
func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	for _, p := range []string{"githubtest/testdata/schema.graphql", "/work/shared/fixtures/github/schema.graphql"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		src := &ast.Source{Name: p, Input: string(b)}
		if s, gerr := gqlparser.LoadSchema(src); gerr == nil {
			return s
		}
		doc, perr := parser.ParseSchemas(validator.Prelude, src)
		if perr != nil {
			t.Fatalf("parse schema %s: %v", p, perr)
		}
		for _, defs := range [][]*ast.Definition{doc.Definitions, doc.Extensions} {
			for _, d := range defs {
				seen := map[string]bool{}
				var keep ast.FieldList
				for _, f := range d.Fields {
					if !seen[f.Name] {
						seen[f.Name] = true
						keep = append(keep, f)
					}
				}
				d.Fields = keep
			}
		}
		s, verr := validator.ValidateSchemaDocument(doc)
		if verr != nil {
			t.Fatalf("load schema %s: %v", p, verr)
		}
		return s
	}
	t.Fatal("GitHub GraphQL schema not found (githubtest/testdata/schema.graphql)")
	return nil
}

func TestQueriesValidateAgainstGitHubSchema(t *testing.T) {
	schema := loadSchema(t)
	for name, q := range allQueries {
		t.Run(name, func(t *testing.T) {
			if _, errs := gqlparser.LoadQuery(schema, q); errs != nil {
				t.Fatalf("%s does not validate against GitHub's schema: %v", name, errs)
			}
		})
	}
}

// TestQueriesRejectTypos proves the validation can fail.
func TestQueriesRejectTypos(t *testing.T) {
	schema := loadSchema(t)
	if _, errs := gqlparser.LoadQuery(schema, `query { repository(owner: "a", name: "b") { pullRequest(number: 1) { mergedAtt } } }`); errs == nil {
		t.Fatal("a query with an unknown field validated")
	}
}
