"""copyloom.content.journey"""
