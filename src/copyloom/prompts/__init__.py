"""copyloom.prompts"""
