"""The chat's look: CSS for the markup that ui/render.py produces (no external fonts or scripts)."""

from __future__ import annotations

HEAD = '<meta name="referrer" content="no-referrer">'

CSS = """
.gradio-container { width: 100% !important; max-width: 1320px !important; margin: 0 auto !important; }
#nq-side input { min-width: 0; }
#nq-header { align-items: center; border-bottom: 1px solid var(--border-color-primary); padding: 4px 4px 10px; }
#nq-header > div { display: flex; justify-content: space-between; align-items: baseline; width: 100%; }
.nq-brand { font-size: 1.35rem; font-weight: 700; letter-spacing: -0.01em; }
.nq-logo { color: var(--color-accent); }
.nq-tag { font-size: 0.85rem; font-weight: 400; color: var(--body-text-color-subdued); margin-left: 8px; }
.nq-corpus { font-size: 0.85rem; color: var(--body-text-color-subdued); }
.nq-answer { font-size: 0.97rem; line-height: 1.55; }
.nq-rewrite { font-size: 0.8rem; color: var(--body-text-color-subdued); margin-bottom: 6px; font-style: italic; }
.nq-text { font-size: 1.05rem; margin: 0 0 12px; }
.nq-cite { font-size: 0.75rem; font-weight: 600; vertical-align: super; text-decoration: none !important;
  color: var(--color-accent) !important; margin-left: 2px; }
.nq-sources-head { font-size: 0.72rem; font-weight: 700; text-transform: uppercase; letter-spacing: 0.08em;
  color: var(--body-text-color-subdued); margin: 10px 0 6px; }
.nq-count { background: var(--background-fill-secondary); border-radius: 8px; padding: 0 6px; margin-left: 4px; }
ol.nq-sources { list-style: none; padding: 0 !important; margin: 0 !important;
  display: flex; flex-direction: column; gap: 8px; }
li.nq-source { display: flex; gap: 10px; border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: 10px 12px; background: var(--background-fill-primary); margin: 0 !important; }
li.nq-source:target { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.nq-n { flex: none; width: 22px; height: 22px; border-radius: 50%; background: var(--color-accent); color: white;
  font-size: 0.75rem; font-weight: 700; display: flex; align-items: center; justify-content: center; margin-top: 2px; }
.nq-body { min-width: 0; flex: 1; }
.nq-title { font-weight: 600; line-height: 1.3; }
.nq-title a { color: inherit !important; text-decoration: none !important; }
.nq-title a:hover { text-decoration: underline !important; }
.nq-meta { font-size: 0.8rem; color: var(--body-text-color-subdued); margin: 2px 0 6px; }
.nq-outlet { font-weight: 600; }
.nq-context { margin: 0 !important; font-size: 0.9rem; color: var(--body-text-color); }
.nq-context mark, .nq-full mark { background: #fde68a; color: #1f2937; padding: 1px 2px; border-radius: 3px; }
.nq-full { margin-top: 6px; font-size: 0.85rem; }
.nq-full summary { cursor: pointer; color: var(--color-accent); font-size: 0.8rem; }
.nq-full p { max-height: 360px; overflow-y: auto; margin: 6px 0 0 !important; }
.nq-abstain { background: var(--background-fill-secondary); border-left: 3px solid #f59e0b; padding: 8px 12px;
  border-radius: 6px; margin-bottom: 8px; }
li.nq-near { opacity: 0.9; }
.nq-error { border-left: 3px solid #dc2626; padding: 8px 12px; background: #fef2f2; color: #7f1d1d;
  border-radius: 6px; }
.nq-pending { color: var(--body-text-color-subdued); display: flex; align-items: center; gap: 8px; }
.nq-spinner { width: 14px; height: 14px; border: 2px solid var(--border-color-primary);
  border-top-color: var(--color-accent); border-radius: 50%; animation: nq-spin 0.8s linear infinite; }
@keyframes nq-spin { to { transform: rotate(360deg); } }
table.nq-report { font-size: 0.8rem; width: 100%; }
table.nq-report td, table.nq-report th { padding: 2px 4px; text-align: left; }
tr.nq-rejected td { color: #b91c1c; }
.nq-report-sum { font-size: 0.85rem; }
.nq-hint { font-size: 0.78rem; color: var(--body-text-color-subdued); }
"""

# After an answer: bring the start of the newest answer into view (the chat's own autoscroll
# goes to the end of the sources, which on a real corpus shows the last quote's article).
# Run after the chat has rendered and autoscrolled: a short delay.
SCROLL_TO_ANSWER = """() => { setTimeout(() => {
  const answers = document.querySelectorAll('#nq-chat .nq-answer, #nq-chat .nq-error');
  const last = answers[answers.length - 1];
  if (last) last.scrollIntoView({block: 'start', behavior: 'smooth'});
}, 150); }"""
