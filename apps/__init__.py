"""Northstar's Streamlit app: governed OEE across plants, read from the published marts."""
