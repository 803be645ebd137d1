print("batonctl")
