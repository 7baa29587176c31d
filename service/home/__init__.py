"""The signed-in person's home: what each of their roles has waiting, and the menu they see."""
