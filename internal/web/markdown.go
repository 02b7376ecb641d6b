package web

import (
	"bytes"
	"html/template"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown renders postmortems: CommonMark with GitHub's tables, task
// lists, strikethrough and autolinks (goldmark's GFM), so a postmortem
// reads here as it does in the GitHub issue it is published to. Raw HTML
// in the Markdown is not rendered, and the output goes through a
// sanitizer that keeps only the elements below, so a postmortem cannot
// inject markup or script.
var markdown = goldmark.New(
	goldmark.WithExtensions(
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		extension.Strikethrough, extension.Linkify, extension.TaskList),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(docShape{}, 100))),
)

// markdownPolicy is what rendered postmortems may contain: text markup,
// lists, tables, code and links to http(s), mailto and this site.
var markdownPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
		"pre", "code", "blockquote", "strong", "em", "del")
	p.AllowStandardURLs()
	p.AllowAttrs("href").OnElements("a")
	p.RequireNoReferrerOnLinks(true)
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|center|right)$`)).OnElements("th", "td")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^task( done)?$`)).OnElements("li")
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^$`)).OnElements("input")
	return p
}()

// docShape fits a postmortem into its page: the page's h1 is the
// postmortem's title, so its headings move one level down; task-list items
// get a class, done ones another, for their style.
type docShape struct{}

// Transform implements parser.ASTTransformer.
func (docShape) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			n.Level = min(n.Level+1, 6)
		case *east.TaskCheckBox:
			for p := n.Parent(); p != nil; p = p.Parent() {
				if li, ok := p.(*ast.ListItem); ok {
					cls := "task"
					if n.IsChecked {
						cls = "task done"
					}
					li.SetAttributeString("class", []byte(cls))
					break
				}
			}
		}
		return ast.WalkContinue, nil
	})
}

// renderMarkdown turns the Markdown of a postmortem into safe HTML for
// reading and printing.
func renderMarkdown(md string) template.HTML {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(md), &buf); err != nil {
		// goldmark only fails when writing fails; a bytes.Buffer does not.
		return template.HTML(template.HTMLEscapeString(md))
	}
	return template.HTML(markdownPolicy.SanitizeBytes(buf.Bytes()))
}
