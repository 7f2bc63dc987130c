"""copyloom.genai"""
