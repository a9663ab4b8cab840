// Package reports renders everything a person reads: summaries as text
// (tablewriter), Markdown, LaTeX (booktabs), CSV and JSON, comparisons,
// the gate's verdict, dataset inspections and flipped items. Renderers
// never compute statistics: they format what eval/stats computed.
package reports
