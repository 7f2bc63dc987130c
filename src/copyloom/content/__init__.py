"""copyloom.content"""
