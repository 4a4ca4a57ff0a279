// placeholder: the dispatcher
