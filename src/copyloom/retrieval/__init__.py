"""copyloom.retrieval"""
