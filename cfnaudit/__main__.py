from cfnaudit.cli import main

main()
