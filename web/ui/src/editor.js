// The PromQL editor: CodeMirror 6 with @prometheus-io/codemirror-promql for parsing,
// syntax highlighting, linting and autocompletion of metric names, label names/values
// and functions (fetched from this server's /api/v1 endpoints).
import { autocompletion, closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, insertNewlineAndIndent } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { lintKeymap } from '@codemirror/lint';
import { EditorState, Prec } from '@codemirror/state';
import { EditorView, highlightSpecialChars, keymap, placeholder } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';
import { basePath } from './api.js';

// Colours for PromQL tokens, close to the Prometheus UI's light theme.
const promqlHighlight = HighlightStyle.define([
  { tag: tags.number, color: '#09885a' },
  { tag: tags.string, color: '#a31515' },
  { tag: tags.keyword, color: '#008080', fontWeight: 'bold' },
  { tag: tags.function(tags.variableName), color: '#008080', fontWeight: 'bold' },
  { tag: tags.labelName, color: '#800000' },
  { tag: tags.operator, color: '#3a3a3a' },
  { tag: tags.modifier, color: '#008080', fontWeight: 'bold' },
  { tag: tags.paren, color: '#3a3a3a' },
  { tag: tags.squareBracket, color: '#3a3a3a' },
  { tag: tags.brace, color: '#3a3a3a' },
  { tag: tags.invalid, color: 'red' },
  { tag: tags.comment, color: '#888', fontStyle: 'italic' },
]);

const editorTheme = EditorView.theme({
  '&': { border: '1px solid #ced4da', borderRadius: '4px', background: '#fff', fontSize: '14px' },
  '&.cm-focused': { outline: 'none', borderColor: '#80bdff', boxShadow: '0 0 0 2px rgba(0,123,255,.2)' },
  '.cm-content': { fontFamily: 'Menlo, Consolas, "DejaVu Sans Mono", monospace', padding: '6px 0' },
  // The default line height clips underscores, which every metric name has.
  '.cm-line': { lineHeight: '1.6' },
  '.cm-scroller': { overflow: 'auto' },
  '.cm-tooltip.cm-tooltip-autocomplete > ul': { fontFamily: 'Menlo, Consolas, monospace', maxHeight: '20em' },
});

// One completion client for the whole page so metric names and metadata are cached once.
const promql = new PromQLExtension().setComplete({
  remote: { url: basePath, httpMethod: 'GET', cache: { maxAge: 5 * 60 * 1000 } },
  maxMetricsMetadata: 10000,
});

// Creates an editor in `parent`. onExecute() runs on Enter (Shift+Enter inserts a newline);
// onChange(text) on every edit.
export function createPromqlEditor(parent, { doc = '', onExecute, onChange }) {
  const executeKeymap = Prec.highest(
    keymap.of([
      { key: 'Enter', run: () => { onExecute(); return true; } },
      { key: 'Shift-Enter', run: insertNewlineAndIndent },
    ]),
  );
  const state = EditorState.create({
    doc,
    extensions: [
      highlightSpecialChars(),
      history(),
      bracketMatching(),
      closeBrackets(),
      autocompletion({ activateOnTyping: true }),
      syntaxHighlighting(promqlHighlight),
      placeholder('Expression (press Shift+Enter for newlines)'),
      EditorView.lineWrapping,
      editorTheme,
      // autocompletion() above installs its keymap at the same highest precedence and
      // earlier, so Enter accepts an open completion before it executes the query.
      executeKeymap,
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...lintKeymap]),
      promql.asExtension(),
      EditorView.updateListener.of((update) => {
        if (update.docChanged && onChange) onChange(update.state.doc.toString());
      }),
    ],
  });
  return new EditorView({ state, parent });
}

// Replaces the editor's whole text.
export function setEditorText(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

// Replaces the selection with `text` and focuses the editor (metrics explorer picks).
export function insertAtCursor(view, text) {
  view.dispatch(view.state.replaceSelection(text));
  view.focus();
}
