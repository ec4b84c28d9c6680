from rest_framework.views import APIView


class DueView(APIView):
    pass


class YearView(APIView):
    pass
