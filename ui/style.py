"""The page's CSS (class names are those of :mod:`ui.render`)."""

CSS = """
/* One font for bold text too. Gradio's theme gives "Source Sans Pro" (and "IBM Plex Mono") a
   semibold file that holds a few letters ("A", "B"), so a bold heading was set in two fonts: those
   letters in it, the rest in whatever bold font the system has. Gradio ships each family's full
   bold beside it: bold and semibold text use that (served by the page itself, as the regular
   weight is; nothing is fetched from the web). After the theme's rules, these win for 600. */
@font-face { font-family: "Source Sans Pro"; src: url("static/fonts/SourceSansPro/SourceSansPro-Bold.woff2")
             format("woff2"); font-weight: 600; font-style: normal; }
@font-face { font-family: "Source Sans Pro"; src: url("static/fonts/SourceSansPro/SourceSansPro-Bold.woff2")
             format("woff2"); font-weight: 700; font-style: normal; }
@font-face { font-family: "IBM Plex Mono"; src: url("static/fonts/IBMPlexMono/IBMPlexMono-Bold.woff2")
             format("woff2"); font-weight: 600; font-style: normal; }
@font-face { font-family: "IBM Plex Mono"; src: url("static/fonts/IBMPlexMono/IBMPlexMono-Bold.woff2")
             format("woff2"); font-weight: 700; font-style: normal; }
.answer p, .question { margin: 0 0 .4em 0; line-height: 1.5; }
.chip { display: inline-block; padding: 0 .35em; margin: 0 .1em; border-radius: .6em; font-size: .85em;
        font-weight: 600; text-decoration: none !important; background: var(--color-accent-soft);
        color: var(--color-accent) !important; border: 1px solid var(--color-accent); cursor: pointer; }
.chip.static { cursor: default; margin-right: .5em; }
.supported { font-size: .85em; margin-top: .3em !important; }
.supported.checked::before { content: "✓ "; color: #15803d; font-weight: 700; }
.dim { opacity: .7; }
.abstained { border-left: 4px solid #a3a3a3; padding: .2em .8em; font-style: italic; }
.abstained-label, .disagreement-label, .error-label { font-weight: 700; font-style: normal; margin-bottom: .3em; }
.abstained-label::before { content: "∅ "; }
.abstained .why { font-style: normal; font-size: .92em; }
.disagreement-label { color: #b45309; }
.disagreement-label::before { content: "⇄ "; }
.versions, .sources.side-by-side { display: grid; grid-template-columns: repeat(auto-fit, minmax(14em, 1fr));
                                   gap: .6em; }
.version { border: 1px solid #d97706; border-radius: .5em; padding: .5em .7em; }
.version .source-title { font-size: .9em; margin-bottom: .3em; }
.error { border-left: 4px solid #dc2626; padding: .2em .8em; }
.error-label { color: #dc2626; font-size: 1em; }
.note { font-size: .85em; opacity: .8; }
.sources-panel { max-height: 78vh; overflow-y: auto; padding-right: .3em; }
.source-group { margin-bottom: 1.2em; }
.sources-heading { font-weight: 700; margin: .2em 0 .5em 0; }
.source { border: 1px solid var(--border-color-primary); border-radius: .5em; padding: .6em .8em;
          margin-bottom: .6em; scroll-margin-top: .5em; transition: box-shadow .3s; }
.source:target, .source:focus { box-shadow: 0 0 0 3px var(--color-accent); outline: none; }
.source-foot { display: flex; justify-content: space-between; align-items: baseline; gap: .5em; }
.back-to-answer { font-size: .8em; white-space: nowrap; }
.source-foot .original { font-size: .8em; white-space: nowrap; margin-left: auto; }
.follow-ups { display: flex; flex-wrap: wrap; gap: .35em; align-items: center; margin-top: .5em; font-size: .85em; }
.follow-up { padding: .15em .7em; border-radius: 1em; border: 1px solid var(--color-accent); cursor: pointer;
             background: var(--color-accent-soft); color: inherit; text-align: left; }
.follow-up:hover, .follow-up:focus-visible { background: var(--color-accent); color: white; }
.sources-heading .asked { font-weight: 400; }
.copy-text { margin-left: .6em; padding: 0 .5em; font-size: .85em; border: 1px solid var(--border-color-primary);
             border-radius: .4em; background: var(--background-fill-secondary); color: inherit; cursor: pointer; }
.copy-source { display: none; }
.conversation-tools { display: flex; gap: .6em; align-items: center; font-size: .9em; }
.conversation-tools .copy-text { margin-left: 0; }
.conversation-tools:empty, #conversation-tools:has(> div:empty) { display: none; }
.filter-chips { display: flex; flex-wrap: wrap; gap: .35em; align-items: center; font-size: .85em; }
.filter-chip { padding: .1em .6em; border-radius: 1em; border: 1px solid var(--color-accent);
               background: var(--color-accent-soft); }
.filter-chip.problem { border-color: var(--error-border-color, #dc2626); background: var(--error-background-fill, #fef2f2);
                       color: var(--error-text-color, #b91c1c); }
.answer.stopped { opacity: .85; }
.answer .draft { color: var(--body-text-color-subdued); font-style: italic; margin: 0 0 .4em 0;
                 border-left: 3px dashed var(--border-color-primary); padding-left: .5em; }
#ask, #stop, #new-chat { white-space: nowrap; }
#filters-row:not(:has(.filter-chip)) { display: none; }  /* no empty gap under the chat */
@media (max-width: 480px) {
  #ask, #stop, #new-chat { padding-left: .5em; padding-right: .5em; min-width: max-content !important; }
  #examples .gallery, #examples [class*=gallery] { flex-wrap: wrap; }
  #chat { height: 42vh !important; min-height: 260px; }  /* the example questions show without scrolling */
}
.answer-details { font-size: .8em; margin-top: .2em; }
.answer-details summary { cursor: pointer; color: var(--body-text-color-subdued); }
.answer-details p { margin: .2em 0 0; }
.confirm { font-weight: 600; }
.source-head { display: flex; align-items: baseline; }
.source-title b { display: block; }
.meta { font-size: .85em; opacity: .75; }
.passage { margin: .5em 0; padding-left: .7em; border-left: 3px solid var(--border-color-primary);
           white-space: pre-wrap; font-size: .92em; line-height: 1.45; }
/* Dark text on pale yellow in both themes: inherited text turns near-white in dark mode. */
.passage mark { background: #fde68a; color: #1c1917; padding: 0 .1em; border-radius: .2em; }
.source-file { font-size: .8em; }
.notice { border: 1px solid var(--border-color-primary); border-radius: .5em; padding: .6em .9em; }
.notice:empty { display: none; }
table.articles { width: 100%; border-collapse: collapse; font-size: .92em; }
table.articles th, table.articles td { text-align: left; padding: .35em .5em;
                                        border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
table.articles .num { text-align: right; }
.status.ok::before { content: "✓ "; color: #15803d; }
.status.error { color: #dc2626; }

/* Dark mode (Gradio sets .dark from the system's colour scheme): lighter hues on dark ground. */
.dark .disagreement-label { color: #fbbf24; }
.dark .version { border-color: #fbbf24; }
.dark .error-label, .dark .status.error { color: #f87171; }
.dark .supported.checked::before, .dark .status.ok::before { color: #4ade80; }
@media (max-width: 640px) { .sources-panel { max-height: none; overflow: visible; } }
"""
