"""Glossary page: the terms of the trade, from the same text as the README's glossary."""

import streamlit as st

from ccplan.report import glossary

st.title("Glossary")
st.caption("The terms used on every page (the same text as the README's glossary).")
terms = glossary()
if not terms:
    st.info("The glossary is read from README.md, which is not beside this installation.")
find = st.text_input("Find a term", key="gl_find", placeholder="e.g. ASA, shrinkage, CRN")
for term, text in terms:
    if find and find.lower() not in (term + " " + text).lower():
        continue
    st.markdown(f"**{term}** — {text}")
